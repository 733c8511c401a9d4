"""Content of the quickstart's sample crawl, written for this project (CC0).

Each article is (slug, language, title, paragraphs). ``make_sample.py`` wraps them into
boilerplate-heavy HTML pages and WARC records, adds duplicates, near-duplicates, spam,
contact pages with personal data, robots.txt captures and records that are not pages.
"""

ARTICLES = [
    ("sourdough", "en", "How a Sourdough Starter Works", [
        "A sourdough starter is a small ecosystem of wild yeast and lactic acid bacteria living in a paste of flour and water. The yeast produces carbon dioxide that leavens the bread, while the bacteria produce lactic and acetic acids that give the loaf its characteristic tang.",
        "When you feed a starter, you dilute the acids and give the microbes fresh starch to break down. For the first few hours the culture grows slowly, then it rises quickly, peaks, and finally collapses as the food runs out. Bakers learn to catch the starter near its peak, when the yeast population is most active.",
        "Temperature changes everything. A starter kept at twenty-four degrees Celsius may peak in four to six hours, while the same culture in a cool kitchen can take twelve. Many home bakers keep a jar in the refrigerator between bakes and feed it once a week, which slows the microbes without killing them.",
        "If the starter smells sharply of acetone or nail polish, it is hungry rather than spoiled. Discard most of it, feed the remainder with equal weights of flour and water, and within a day or two it should smell pleasantly sour again.",
    ]),
    ("bicycle-maintenance", "en", "Five Minutes of Bicycle Maintenance That Prevent Most Breakdowns", [
        "Most roadside bicycle failures have simple causes: under-inflated tyres, a dry chain, or brake pads worn down to the metal. A short routine before each long ride catches nearly all of them.",
        "Start with the tyres. Squeeze each one firmly; if your thumb can press the tread in noticeably, pump it up to the pressure printed on the sidewall. Low pressure is the most common reason for pinch flats, where the tube is caught between the rim and a sharp edge of the road.",
        "Next, spin the pedals backwards and listen to the chain. A squeaking or grinding chain needs a few drops of lubricant on the rollers, followed by a minute of pedalling and a wipe with a rag to remove the excess. Too much oil attracts grit, which wears the drivetrain faster than no oil at all.",
        "Finally, squeeze both brake levers. They should stop well before touching the handlebar, and the pads should meet the rim or rotor evenly. If a lever pulls all the way in, adjust the cable tension or replace the pads before you ride.",
    ]),
    ("tide-pools", "en", "Reading a Tide Table Before Exploring Tide Pools", [
        "Tide pools are at their richest during the lowest tides of the month, which usually fall a day or two after a new or full moon. A tide table lists the time and height of every high and low water for a given harbour, and learning to read it keeps explorers both productive and safe.",
        "Heights in most tables are measured from a local reference level called chart datum. A negative low tide, printed with a minus sign, means the water will drop below that level and expose rocks that are normally submerged. Those are the days when sea stars, anemones and nudibranchs are easiest to find.",
        "Arrive about an hour before the predicted low and plan to leave shortly after it. The water returns faster than many visitors expect, and channels between rocks can fill quickly. Always keep an eye on the sea and never turn your back on incoming waves.",
        "Touch animals gently with a wet finger, if at all, and return any rock you lift to exactly the position you found it. The undersides of boulders are home to creatures that dry out and die within minutes in the sun.",
    ]),
    ("spreadsheet-dates", "en", "Why Spreadsheets Get Dates Wrong", [
        "Spreadsheet programs store dates as numbers: the count of days since a fixed starting point. That design makes date arithmetic easy, but it also causes a long list of surprises when data moves between programs or countries.",
        "The best known problem is automatic conversion. Type a gene name such as a short code followed by a number into a cell and the program may silently turn it into a calendar date. Researchers have found this error in a large share of published supplementary tables, and several genes were eventually renamed to avoid it.",
        "Regional formats add another trap. The string 03/04/2024 is the fourth of March in the United States and the third of April in most of Europe. When a file written in one locale is opened in another, ambiguous dates are reinterpreted while unambiguous ones stay as text, leaving a column that mixes both.",
        "The safest habit is to store dates in the ISO 8601 form, year-month-day, and to import files with every column set to text first. Convert only the columns you have checked, and keep the original file untouched.",
    ]),
    ("urban-trees", "en", "What Street Trees Do for a City", [
        "A mature street tree can lower the surface temperature of the pavement beneath it by more than ten degrees on a summer afternoon. Shade is the most visible benefit of urban trees, but it is far from the only one.",
        "Tree roots and the soil around them absorb rainfall that would otherwise rush into storm drains. During heavy storms this delay reduces flooding and the overflow of untreated sewage in cities with combined sewer systems.",
        "Trees also need care to deliver these benefits. Young trees planted in small pits surrounded by compacted soil often die within a few years. Cities that connect planting pits under the pavement, water new trees through their first summers and protect trunks from cars see far higher survival rates.",
        "Choosing a variety of species matters as well. Streets lined with a single kind of tree can lose every one of them to a pest or disease, as many towns learned when elm and ash populations collapsed.",
    ]),
    ("home-network", "en", "Troubleshooting a Slow Home Network", [
        "When web pages load slowly at home, the cause may be the internet connection, the wireless network, or a single busy device. Testing each part separately saves hours of guesswork.",
        "First connect a computer directly to the router with a cable and run a speed test. If the wired result matches the speed you pay for, the connection itself is fine and the problem lies in the wireless link.",
        "Wireless signals weaken quickly through walls, floors and large appliances. Moving the router to a central, raised position often helps more than buying new hardware. Neighbouring networks on the same channel also cause interference, and most routers can be set to choose a less crowded channel automatically.",
        "Finally, check whether one device is saturating the link. A cloud backup or a large game download can take most of the available bandwidth; many routers offer a quality-of-service setting that gives video calls priority.",
    ]),
    ("compost", "en", "Hot and Cold Composting Compared", [
        "Composting turns kitchen scraps and garden waste into a dark, crumbly material that improves soil structure and feeds plants. There are two broad approaches: hot composting, which is fast but demands attention, and cold composting, which is slow but nearly effortless.",
        "A hot pile needs a balance of nitrogen-rich green material, such as grass clippings and vegetable peelings, and carbon-rich brown material, such as dry leaves and shredded cardboard. Built all at once, kept moist and turned every few days, it can reach sixty degrees Celsius and finish in two months.",
        "A cold heap grows gradually as material is added. It never gets hot enough to kill weed seeds, and it can take a year or more to mature, but it requires little more than occasional watering.",
        "Whichever method you choose, keep meat, dairy and oily food out of a home system. They attract rats and produce foul odours long before they break down.",
    ]),
    ("typing-posture", "en", "Setting Up a Desk to Avoid Wrist Pain", [
        "Long hours at a keyboard put steady strain on the tendons of the wrist and forearm. Small changes to the height of the chair, desk and screen reduce that strain considerably.",
        "Sit so that your elbows rest at roughly a right angle with the shoulders relaxed. The keyboard should be at or slightly below elbow height, so the wrists stay straight instead of bending upward to reach the keys.",
        "Place the top of the monitor at or just below eye level and about an arm's length away. A screen that is too low pulls the head forward, which tires the neck and upper back over the course of a day.",
        "Breaks matter as much as equipment. Standing up for a minute every half hour, stretching the fingers and looking at something distant gives muscles and eyes a chance to recover.",
    ]),
    ("rice-cooking", "zh", "如何煮出一锅好米饭", [
        "煮米饭看似简单，但米与水的比例、浸泡时间和火候都会影响口感。不同品种的大米吸水能力不同，新米比陈米含水量高，因此需要的水也更少。",
        "淘米时动作要轻，用清水冲洗两到三遍，直到水基本变清即可。过度搓洗会让米粒表面的营养流失，也会使米饭缺少香味。",
        "洗好的米最好浸泡二十到三十分钟，让米粒中心充分吸水。这样煮出来的米饭软硬均匀，不会出现外面烂、里面硬的情况。一般来说，粳米的米水比例约为一比一点二，籼米则需要稍多一些水。",
        "米饭煮好后不要立刻打开锅盖，再焖十分钟左右，让水汽均匀分布。开盖后用饭勺从底部轻轻翻松，多余的水汽散去，米饭会更加松软可口。",
    ]),
    ("high-speed-rail", "zh", "高速铁路为什么能跑得又快又稳", [
        "高速列车的运行速度可以超过每小时三百公里，乘客却很少感到明显的颠簸。这背后是线路、车辆和控制系统多方面技术共同作用的结果。",
        "首先是线路。高速铁路大量采用无砟轨道，用混凝土道床代替传统的碎石道床，轨道的几何形状更加稳定。长钢轨经过焊接后几乎没有接缝，车轮经过时不会产生周期性的撞击声。",
        "其次是车辆。动车组采用流线型车头以降低空气阻力，转向架装有减振装置，能够吸收轨道传来的细小振动。车厢的密封设计还能减轻列车进出隧道时的压力变化，保护乘客的耳朵。",
        "最后是信号与控制系统。列车控制系统实时计算前方安全距离，并自动限制列车速度。司机可以在车内屏幕上看到前方的允许速度，不再完全依赖路边的信号灯。",
    ]),
    ("tea-brewing", "zh", "绿茶冲泡的三个要点", [
        "绿茶属于不发酵茶，茶叶细嫩，冲泡方法不当很容易让茶汤发苦。掌握水温、投茶量和冲泡时间这三个要点，就能泡出清香鲜爽的一杯茶。",
        "水温不宜过高。沸水会烫熟细嫩的芽叶，使茶汤变黄、滋味苦涩。一般将水烧开后稍微放凉，等到八十度左右再冲泡，最能保持绿茶的鲜爽。",
        "投茶量可以按照一克茶叶配五十毫升水的比例来掌握。喜欢浓一些的可以适当多放，但不宜过量，否则茶汤会显得苦重。",
        "冲泡时间以两到三分钟为宜。第一泡茶汤饮到剩下三分之一时就可以续水，这样前后几泡的浓淡会比较均匀。一般绿茶可以冲泡三次左右。",
    ]),
    ("library-history", "zh", "城市图书馆的变化", [
        "过去人们去图书馆主要是为了借书和查资料，如今的城市图书馆已经成为集阅读、学习、展览和社区活动于一体的公共空间。",
        "许多图书馆延长了开放时间，设立了自助借还机和二十四小时自助阅览室。读者只需一张读者证，就可以在不同分馆之间通借通还，大大方便了市民。",
        "数字资源也在快速增长。读者可以在家中通过网站或手机应用查阅电子书、期刊和数据库，还可以在线预约座位和参加讲座。",
        "图书馆还为老人和儿童提供专门的服务，例如智能手机使用培训、亲子阅读活动和假期托管。这些服务让图书馆真正成为社区生活的一部分。",
    ]),
    ("winter-running", "zh", "冬季跑步需要注意什么", [
        "冬天气温低、空气干燥，坚持跑步能够增强体质，但也需要做好准备，避免受伤和感冒。",
        "跑前热身比其他季节更加重要。低温下肌肉和韧带比较僵硬，可以先快走几分钟，再做一些动态拉伸，让身体微微出汗后再开始跑步。",
        "穿衣要遵循分层原则。贴身一层选择排汗速干的面料，中间一层保暖，最外层防风。刚出门时感觉稍冷是正常的，跑几分钟后身体就会暖和起来。",
        "跑步结束后要尽快换下湿衣服，补充温水，并做几分钟静态拉伸。雾霾严重或者路面结冰的日子，最好改在室内锻炼。",
    ]),
    ("bienen", "de", "Warum Wildbienen Hilfe brauchen", [
        "Neben der bekannten Honigbiene leben in Mitteleuropa mehrere hundert Wildbienenarten. Viele von ihnen sind auf ganz bestimmte Pflanzen spezialisiert und sammeln Pollen nur an wenigen Blütenarten.",
        "Die meisten Wildbienen leben nicht in Völkern, sondern allein. Sie nisten in offenen Bodenstellen, in Pflanzenstängeln oder in alten Käferbohrgängen im Totholz. Aufgeräumte Gärten bieten ihnen deshalb kaum Nistplätze.",
        "Wer helfen möchte, sät heimische Wildblumen, lässt einige Stängel über den Winter stehen und verzichtet auf Pestizide. Schon ein kleiner Balkonkasten mit passenden Pflanzen kann einzelnen Arten Nahrung bieten.",
    ]),
    ("pain-au-levain", "fr", "Le pain au levain, une tradition vivante", [
        "Le pain au levain est fabriqué sans levure industrielle, grâce à une culture naturelle de levures et de bactéries entretenue par le boulanger. Sa fermentation lente développe des arômes complexes et une mie légèrement acidulée.",
        "Pour préparer le levain, on mélange de la farine et de l'eau, puis on le nourrit chaque jour pendant une semaine environ. Lorsqu'il double de volume quelques heures après chaque rafraîchissement, il est prêt à être utilisé.",
        "Le pétrissage, le pointage et l'apprêt demandent de la patience, mais le résultat se conserve plusieurs jours sans rassir, ce qui explique l'attachement de nombreux boulangers à cette méthode.",
    ]),
    ("huerto", "es", "Cómo empezar un huerto en el balcón", [
        "Un balcón soleado basta para cultivar hierbas aromáticas, lechugas y tomates cherry. Lo más importante es observar cuántas horas de sol directo recibe el espacio a lo largo del día.",
        "Elija macetas con buen drenaje y un sustrato ligero mezclado con compost. Las plantas en maceta se secan más rápido que en el suelo, por lo que conviene regar temprano por la mañana y comprobar la humedad con el dedo.",
        "Empiece con pocas especies fáciles y vaya ampliando el huerto a medida que gane experiencia. Anotar las fechas de siembra y cosecha ayuda a planificar la siguiente temporada.",
    ]),
    ("onsen", "ja", "温泉の入り方", [
        "日本の温泉には、気持ちよく過ごすためのいくつかのマナーがあります。まず、湯船に入る前に洗い場で体を洗い、汗や汚れを落とします。",
        "タオルは湯船に入れず、頭の上にのせるか、湯船の外に置いておきます。長い髪はまとめて、お湯につからないようにしましょう。",
        "熱いお湯に長く入りすぎると、のぼせることがあります。こまめに休憩し、入浴後は水分をしっかり補給してください。",
    ]),
]

# A second, lightly edited copy of an article (syndication with small changes).
NEAR_DUPLICATE_EDITS = {
    "sourdough": [("tang", "sour flavour"), ("twelve", "ten or twelve"), ("Bakers learn", "Experienced bakers learn")],
    "high-speed-rail": [("三百公里", "三百五十公里"), ("很少感到", "几乎感觉不到")],
    "urban-trees": [("ten degrees", "10 degrees"), ("as many towns learned", "as many cities learned")],
}

SPAM_PAGES = [
    ("cheap-pills", "en", "BEST CHEAP DEALS", "cheap pills discount buy now best price free shipping casino bonus win big "),
    ("seo-links", "en", "Top Links", "click here click here best online shop best online shop top deals top deals "),
    ("zh-spam", "zh", "最新优惠", "免费领取 点击这里 优惠券 限时抢购 特价 代开发票 "),
]

CONTACT_PAGES = [
    ("contact-bakery", "en", "Contact the Riverside Bakery", [
        "The Riverside Bakery is open from Tuesday to Sunday, seven in the morning until three in the afternoon. We bake sourdough loaves, rye bread and seasonal pastries every day.",
        "For wholesale orders please write to orders@riverside-bakery.example.com or call our office on (555) 014-2387 between nine and noon. Our manager, Dana Whitfield, answers catering requests at dana.whitfield@riverside-bakery.example.com.",
        "Our card terminal accepts all major cards. Please do not send card numbers such as 4111 1111 1111 1111 by email; we will call you back to take payment securely.",
    ]),
    ("contact-school", "zh", "联系我们 - 星光培训学校", [
        "星光培训学校提供少儿编程、英语口语和书法课程，欢迎家长带孩子来校参观试听。",
        "报名咨询请拨打电话 138-1234-5678 或 021-6543-2109，也可以发送邮件至 info@xingguang-school.example.com。办公时间为周一至周五上午九点到下午五点。",
        "办理报名手续时需要提供学生身份证号码，例如 11010519491231002X 这样的格式，我们会严格保护您的个人信息。服务器地址 192.168.10.25 仅供内部使用。",
    ]),
]

# A page that quotes an item of the quickstart's own test set (benchmark_sample.jsonl).
HOMEWORK_PAGE = ("homework-help", "en", "Homework Help: Word Problems", [
    "Students often ask us how to set up word problems. Here is one from this week's worksheet, copied exactly as it was handed out.",
    "A baker fills 14 trays with 36 rolls each. She sells 9 trays in the morning and gives 2 trays to a shelter. How many rolls does she have left for the afternoon?",
    "Start by finding how many trays remain, then multiply by the number of rolls on each tray. Always check the units in your final answer.",
    "If you are stuck, draw a picture of the trays and count them in groups. Our tutors are available every weekday afternoon to help with more problems like this one.",
])

# Pages whose owners state their rights (the rights step): (slug, title, paragraphs); the
# signal each carries is set in make_sample.py.
RIGHTS_PAGES = [
    ("lighthouse-keepers", "The Last Lighthouse Keepers", [
        "For two centuries the lighthouses along the northern coast were tended by keepers who lived beside the lamp. They trimmed wicks, wound the clockwork that turned the lens, and logged every passing ship.",
        "Automation arrived slowly. Electric lamps replaced oil, then timers replaced the night watch, and by the nineteen nineties the last keepers handed over their keys.",
        "Several towers now open their doors to visitors in summer. Volunteers tell the stories of storms, rescues and the long winters that the keepers spent alone with the sea.",
    ]),
    ("beekeeping-basics", "Beekeeping for Beginners", [
        "A first hive needs a sunny spot, shelter from the wind and a source of water nearby. Most beginners start with a single colony bought from a local association in late spring.",
        "Inspect the hive every week or two during the season. Look for eggs, which show the queen is laying, and make sure the bees have room to store nectar before the main flow.",
        "Do not take too much honey in the first year. The colony needs its stores to survive the winter, and a strong hive in spring is worth more than a few extra jars in autumn.",
    ]),
    ("night-sky-guide", "Reading the Winter Night Sky", [
        "Winter evenings offer some of the brightest stars of the year. Orion rises in the east after dark, and the three stars of his belt point down toward Sirius, the brightest star in the sky.",
        "Above Orion sits the red giant Aldebaran in the face of Taurus, and beyond it the small cluster of the Pleiades. A pair of binoculars shows dozens of stars where the eye sees only six.",
        "Find a dark place away from street lights and give your eyes twenty minutes to adjust. A red torch keeps your night vision while you check a chart.",
    ]),
    ("sourdough-starter", "Keeping a Sourdough Starter Alive", [
        "A starter is a living culture of wild yeast and bacteria that you feed with flour and water. Kept at room temperature it needs feeding every day; in the fridge once a week is enough.",
        "If a grey liquid collects on top, the culture is hungry. Pour it off, discard half of the starter and feed the rest with equal weights of flour and water.",
        "A healthy starter doubles within six to eight hours of feeding and smells pleasantly sour. Use it at its peak for the lightest loaves.",
    ]),
    ("tidal-energy", "How Tidal Power Works", [
        "Tides move enormous volumes of water twice a day, and that movement can turn turbines. Tidal stream turbines sit on the sea bed like underwater wind turbines and spin as the current passes.",
        "Unlike wind and sunshine, tides can be predicted years in advance. Grid operators know exactly when a tidal plant will produce power and how much.",
        "The challenge is cost. Salt water corrodes machinery, storms damage equipment, and only a few places have currents strong enough to make a plant pay.",
    ]),
    ("bird-migration", "Why Birds Migrate", [
        "Each autumn billions of birds leave their breeding grounds for warmer regions where food stays plentiful through the winter. Some travel a few hundred kilometres; others cross entire oceans.",
        "Birds find their way using the sun, the stars, the earth's magnetic field and landmarks they learn on earlier journeys. Young birds often inherit the direction and distance of their first trip.",
        "Habitat loss along the route is now a major threat. Wetlands where flocks rest and feed are drained, and a single missing stopover can break a journey of thousands of kilometres.",
    ]),
    ("glacier-retreat", "Measuring a Retreating Glacier", [
        "Researchers track glaciers by photographing the same view year after year and by surveying the ice front with satellite positioning. The records show most mountain glaciers shrinking fast.",
        "Meltwater from glaciers feeds rivers through the dry summer months. When the ice is gone, the rivers that towns and farms depend on carry far less water in the hottest season.",
        "Volunteers help by reporting the position of marker stakes and by sharing dated photographs, which fill the gaps between formal surveys.",
    ]),
]
