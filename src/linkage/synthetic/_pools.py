"""Pools the generator samples from: places, streets, people, sectors, activities.

Plain Python data, built into numpy arrays once at import. Weights are relative;
:func:`weights` turns them into probabilities. Municipalities carry their real
Flemish postcode (one postcode per entry: a municipality with several postcodes
appears under its main one, a few large towns also under districts) and a rough
population in thousands, used as the sampling weight.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# (postcode, municipality, population in thousands, approximately)
MUNICIPALITIES: tuple[tuple[int, str, float], ...] = (
    # Antwerpen
    (2000, "Antwerpen", 180), (2018, "Antwerpen", 60), (2060, "Antwerpen", 40),
    (2100, "Deurne", 80), (2140, "Borgerhout", 46), (2150, "Borsbeek", 11),
    (2160, "Wommelgem", 13), (2170, "Merksem", 45), (2180, "Ekeren", 24),
    (2200, "Herentals", 29), (2220, "Heist-op-den-Berg", 43), (2230, "Herselt", 15),
    (2240, "Zandhoven", 13), (2250, "Olen", 12), (2260, "Westerlo", 25),
    (2270, "Herenthout", 9), (2275, "Lille", 17), (2280, "Grobbendonk", 11),
    (2290, "Vorselaar", 8), (2300, "Turnhout", 45), (2310, "Rijkevorsel", 12),
    (2320, "Hoogstraten", 22), (2330, "Merksplas", 9), (2340, "Beerse", 18),
    (2350, "Vosselaar", 11), (2360, "Oud-Turnhout", 14), (2370, "Arendonk", 13),
    (2380, "Ravels", 15), (2390, "Malle", 15), (2400, "Mol", 37), (2430, "Laakdal", 16),
    (2440, "Geel", 41), (2450, "Meerhout", 10), (2460, "Kasterlee", 19),
    (2470, "Retie", 11), (2480, "Dessel", 10), (2490, "Balen", 23), (2500, "Lier", 37),
    (2520, "Ranst", 19), (2530, "Boechout", 13), (2540, "Hove", 8), (2547, "Lint", 9),
    (2550, "Kontich", 21), (2560, "Nijlen", 23), (2570, "Duffel", 18),
    (2580, "Putte", 18), (2590, "Berlaar", 12), (2600, "Berchem", 43),
    (2610, "Wilrijk", 43), (2620, "Hemiksem", 11), (2627, "Schelle", 9),
    (2630, "Aartselaar", 15), (2640, "Mortsel", 26), (2650, "Edegem", 22),
    (2660, "Hoboken", 39), (2800, "Mechelen", 87), (2820, "Bonheiden", 15),
    (2830, "Willebroek", 27), (2840, "Rumst", 15), (2845, "Niel", 10), (2850, "Boom", 19),
    (2860, "Sint-Katelijne-Waver", 21), (2870, "Puurs-Sint-Amands", 26),
    (2880, "Bornem", 21), (2900, "Schoten", 35), (2910, "Essen", 19),
    (2920, "Kalmthout", 19), (2930, "Brasschaat", 38), (2940, "Stabroek", 19),
    (2950, "Kapellen", 27), (2960, "Brecht", 30), (2970, "Schilde", 20),
    (2980, "Zoersel", 22), (2990, "Wuustwezel", 21),
    # Vlaams-Brabant
    (1500, "Halle", 40), (1540, "Herne", 7), (1570, "Galmaarden", 9),
    (1600, "Sint-Pieters-Leeuw", 35), (1640, "Sint-Genesius-Rode", 19),
    (1650, "Beersel", 25), (1670, "Pepingen", 5), (1700, "Dilbeek", 43),
    (1730, "Asse", 33), (1740, "Ternat", 16), (1750, "Lennik", 9), (1760, "Roosdaal", 12),
    (1770, "Liedekerke", 13), (1780, "Wemmel", 16), (1785, "Merchtem", 17),
    (1800, "Vilvoorde", 45), (1820, "Steenokkerzeel", 12), (1830, "Machelen", 16),
    (1840, "Londerzeel", 19), (1850, "Grimbergen", 38), (1860, "Meise", 19),
    (1880, "Kapelle-op-den-Bos", 9), (1910, "Kampenhout", 12), (1930, "Zaventem", 34),
    (1950, "Kraainem", 14), (1970, "Wezembeek-Oppem", 14), (1980, "Zemst", 24),
    (3000, "Leuven", 60), (3001, "Heverlee", 23), (3010, "Kessel-Lo", 30),
    (3020, "Herent", 22), (3040, "Huldenberg", 10), (3050, "Oud-Heverlee", 11),
    (3060, "Bertem", 10), (3070, "Kortenberg", 20), (3080, "Tervuren", 22),
    (3090, "Overijse", 25), (3110, "Rotselaar", 17), (3120, "Tremelo", 15),
    (3130, "Begijnendijk", 10), (3140, "Keerbergen", 13), (3150, "Haacht", 15),
    (3190, "Boortmeerbeek", 12), (3200, "Aarschot", 30), (3210, "Lubbeek", 15),
    (3220, "Holsbeek", 10), (3270, "Scherpenheuvel-Zichem", 23), (3290, "Diest", 24),
    (3300, "Tienen", 35), (3320, "Hoegaarden", 7), (3360, "Bierbeek", 10),
    (3370, "Boutersem", 8), (3380, "Glabbeek", 5), (3390, "Tielt-Winge", 11),
    (3400, "Landen", 16), (3440, "Zoutleeuw", 8), (3450, "Geetbets", 6),
    (3460, "Bekkevoort", 6), (3470, "Kortenaken", 8),
    # Limburg
    (3500, "Hasselt", 80), (3520, "Zonhoven", 21), (3530, "Houthalen-Helchteren", 31),
    (3540, "Herk-de-Stad", 13), (3545, "Halen", 10), (3550, "Heusden-Zolder", 34),
    (3560, "Lummen", 15), (3570, "Alken", 12), (3580, "Beringen", 47),
    (3590, "Diepenbeek", 19), (3600, "Genk", 67), (3620, "Lanaken", 26),
    (3630, "Maasmechelen", 38), (3640, "Kinrooi", 12), (3650, "Dilsen-Stokkem", 21),
    (3660, "Oudsbergen", 24), (3665, "As", 8), (3680, "Maaseik", 25),
    (3690, "Zutendaal", 7), (3700, "Tongeren", 30), (3720, "Kortessem", 8),
    (3730, "Hoeselt", 10), (3740, "Bilzen", 32), (3770, "Riemst", 17),
    (3800, "Sint-Truiden", 41), (3830, "Wellen", 7), (3840, "Borgloon", 11),
    (3850, "Nieuwerkerken", 7), (3870, "Heers", 7), (3890, "Gingelom", 8),
    (3900, "Pelt", 33), (3920, "Lommel", 35), (3930, "Hamont-Achel", 14),
    (3940, "Hechtel-Eksel", 12), (3950, "Bocholt", 13), (3960, "Bree", 16),
    (3970, "Leopoldsburg", 16), (3980, "Tessenderlo", 19), (3990, "Peer", 17),
    # Oost-Vlaanderen
    (9000, "Gent", 150), (9030, "Mariakerke", 14), (9031, "Drongen", 13),
    (9040, "Sint-Amandsberg", 27), (9050, "Gentbrugge", 25), (9052, "Zwijnaarde", 8),
    (9060, "Zelzate", 13), (9070, "Destelbergen", 18), (9080, "Lochristi", 23),
    (9090, "Melle", 11), (9100, "Sint-Niklaas", 80), (9120, "Beveren", 49),
    (9140, "Temse", 30), (9150, "Kruibeke", 17), (9160, "Lokeren", 42),
    (9190, "Stekene", 18), (9200, "Dendermonde", 46), (9220, "Hamme", 25),
    (9230, "Wetteren", 26), (9240, "Zele", 21), (9250, "Waasmunster", 11),
    (9255, "Buggenhout", 15), (9260, "Wichelen", 12), (9270, "Laarne", 13),
    (9280, "Lebbeke", 19), (9290, "Berlare", 15), (9300, "Aalst", 89), (9340, "Lede", 19),
    (9400, "Ninove", 39), (9420, "Erpe-Mere", 20), (9450, "Haaltert", 18),
    (9470, "Denderleeuw", 20), (9500, "Geraardsbergen", 34),
    (9520, "Sint-Lievens-Houtem", 11), (9550, "Herzele", 18), (9600, "Ronse", 26),
    (9620, "Zottegem", 27), (9630, "Zwalm", 8), (9660, "Brakel", 15),
    (9680, "Maarkedal", 6), (9690, "Kluisbergen", 7), (9700, "Oudenaarde", 32),
    (9750, "Kruisem", 16), (9800, "Deinze", 45), (9810, "Nazareth", 12),
    (9820, "Merelbeke", 25), (9830, "Sint-Martens-Latem", 9), (9840, "De Pinte", 11),
    (9860, "Oosterzele", 14), (9870, "Zulte", 16), (9880, "Aalter", 30),
    (9890, "Gavere", 13), (9900, "Eeklo", 21), (9920, "Lievegem", 27),
    (9940, "Evergem", 36), (9960, "Assenede", 14), (9970, "Kaprijke", 6),
    (9980, "Sint-Laureins", 7), (9990, "Maldegem", 24),
    # West-Vlaanderen
    (8000, "Brugge", 60), (8200, "Sint-Andries", 20), (8210, "Zedelgem", 23),
    (8300, "Knokke-Heist", 33), (8310, "Assebroek", 21), (8370, "Blankenberge", 20),
    (8400, "Oostende", 72), (8420, "De Haan", 13), (8430, "Middelkerke", 20),
    (8450, "Bredene", 18), (8460, "Oudenburg", 9), (8470, "Gistel", 12),
    (8480, "Ichtegem", 14), (8490, "Jabbeke", 14), (8500, "Kortrijk", 55),
    (8510, "Marke", 23), (8520, "Kuurne", 13), (8530, "Harelbeke", 28),
    (8540, "Deerlijk", 12), (8550, "Zwevegem", 25), (8560, "Wevelgem", 31),
    (8570, "Anzegem", 15), (8580, "Avelgem", 10), (8600, "Diksmuide", 17),
    (8610, "Kortemark", 12), (8620, "Nieuwpoort", 12), (8630, "Veurne", 12),
    (8640, "Vleteren", 4), (8647, "Lo-Reninge", 3), (8650, "Houthulst", 10),
    (8660, "De Panne", 11), (8670, "Koksijde", 22), (8680, "Koekelare", 9),
    (8690, "Alveringem", 5), (8700, "Tielt", 21), (8710, "Wielsbeke", 10),
    (8720, "Dentergem", 8), (8730, "Beernem", 16), (8740, "Pittem", 7),
    (8750, "Wingene", 14), (8760, "Meulebeke", 11), (8770, "Ingelmunster", 11),
    (8780, "Oostrozebeke", 8), (8790, "Waregem", 39), (8800, "Roeselare", 64),
    (8810, "Lichtervelde", 9), (8820, "Torhout", 21), (8830, "Hooglede", 10),
    (8840, "Staden", 11), (8850, "Ardooie", 9), (8860, "Lendelede", 6),
    (8870, "Izegem", 28), (8880, "Ledegem", 10), (8890, "Moorslede", 11),
    (8900, "Ieper", 35), (8920, "Langemark-Poelkapelle", 8), (8930, "Menen", 34),
    (8940, "Wervik", 19), (8950, "Heuvelland", 8), (8970, "Poperinge", 20),
    (8980, "Zonnebeke", 12),
)

# Telephone zone by postcode range: (first postcode of the range, zone without 0).
PHONE_ZONES: tuple[tuple[int, str], ...] = (
    (1000, "2"), (2000, "3"), (2200, "14"), (2400, "14"), (2500, "3"), (2800, "15"),
    (2830, "3"), (2860, "15"), (2870, "3"), (3000, "16"), (3500, "11"), (3600, "89"),
    (3700, "12"), (3800, "11"), (3900, "11"), (8000, "50"), (8400, "59"), (8500, "56"),
    (8600, "51"), (8620, "58"), (8700, "51"), (8900, "57"), (9000, "9"), (9100, "3"),
    (9200, "52"), (9300, "53"), (9400, "54"), (9500, "54"), (9600, "55"), (9800, "9"),
)

# Street names: stems that combine with a type ("Kerk" + "straat"), and whole names.
STREET_STEMS: tuple[str, ...] = (
    "Kerk", "Stations", "Molen", "School", "Dorps", "Nieuw", "Hoog", "Kapel", "Berg",
    "Bos", "Beek", "Linden", "Eiken", "Veld", "Heide", "Kasteel", "Hof", "Brug", "Zand",
    "Leie", "Schelde", "Meulen", "Kouter", "Akker", "Weide", "Populieren", "Wilgen",
    "Rozen", "Tulpen", "Beuken", "Berken", "Klooster", "Pastorij", "Processie", "Smis",
    "Kruis", "Kiekenmarkt", "Vaart", "Dries", "Broek", "Meers", "Water", "Ommegang",
    "Zwaluwen", "Merel", "Leeuweriken", "Nachtegalen", "Vlier", "Hazel", "Esdoorn",
    "Bremstruik", "Distel", "Klaver", "Koren", "Tarwe", "Gersten", "Haver", "Hop",
    "Vlas", "Brouwerij", "Smedery", "Ambachts", "Nijverheids", "Industrie", "Handels",
    "Fabriek", "Spoorweg", "Tram", "Post", "Gemeente", "Kanaal", "Dijk", "Polder",
    "Zuid", "Noord", "Oost", "West", "Oude", "Lange", "Korte", "Groene", "Witte",
)
STREET_TYPES: tuple[tuple[str, float], ...] = (
    ("straat", 55), ("laan", 15), ("weg", 12), ("dreef", 5), ("plein", 3), ("lei", 3),
    ("baan", 3), ("kaai", 2), ("dijk", 2),
)
STREET_NAMES: tuple[str, ...] = (
    "Grote Markt", "Markt", "Gentsesteenweg", "Brusselsesteenweg", "Antwerpsesteenweg",
    "Mechelsesteenweg", "Kortrijksesteenweg", "Liersesteenweg", "Turnhoutsebaan",
    "Hasseltweg", "Tiensesteenweg", "Brugsesteenweg", "Koning Albertlaan",
    "Koningin Astridlaan", "Koning Leopoldlaan", "Leopoldlaan", "Sint-Jansstraat",
    "Sint-Pietersstraat", "Sint-Martinusstraat", "Onze-Lieve-Vrouwstraat",
    "Industriepark", "Europalaan", "Kardinaal Mercierlaan", "Guido Gezellestraat",
    "Hendrik Conscienceplein", "Pieter de Coninckstraat", "Jan Breydelstraat",
    "Pater Damiaanstraat", "Burgemeester Van Gansberghelaan", "Dokter Van de Perrestraat",
)

SURNAMES: tuple[str, ...] = tuple(dict.fromkeys((
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Vermeulen", "Pauwels", "Hermans", "Aerts", "Michiels",
    "Van den Broeck", "Dierckx", "Martens", "Desmet", "Leemans", "Lambrechts",
    "Van Damme", "Wuyts", "Verstraete", "Claeys", "Smets", "De Clercq", "Cools",
    "Stevens", "Verhoeven", "Segers", "Van de Velde", "De Backer", "Hendrickx",
    "Vermeersch", "Thys", "Bogaerts", "Coppens", "Verbeke", "Van Dyck", "Verschueren",
    "Geerts", "Mahieu", "Laenen", "Baert", "Jansen", "Devos", "De Wilde", "Van Acker",
    "Pieters", "Verhaeghe", "Moens", "Van Hecke", "Van Laere", "De Meyer",
    "Vandenberghe", "Dewulf", "Verhelst", "Declercq", "Van Hoof", "Cuypers", "Dhondt",
    "Huybrechts", "Engelen", "Van Gestel", "Deprez", "De Vos", "Lemmens", "Vos", "Nys",
    "Celis", "Luyten", "Vercammen", "Vanhove", "Boonen", "Francken", "Bosmans",
    "Van Loon", "Verbruggen", "Vandamme", "Van Camp", "Verlinden", "Gielen", "Daems",
    "Van Rompaey", "Schepers", "Bervoets", "Vervoort", "De Cock", "Van Hove", "Sels",
    "Somers", "Vanhoutte", "Roels", "Van Roy", "Verachtert", "Heylen", "Van Looy",
    "Keersmaekers", "Meeus", "Van Aken", "Buyse", "Vandewalle", "De Roeck", "Coenen",
    "Raes", "Van Houtte", "Vanhaecke", "Vanneste", "Desmedt", "Van Belle", "Dockx",
    "Maenhout", "Decock", "Vandendriessche", "Callens", "Ceulemans", "Verschoren",
    "Vlaeminck", "Boeckx", "Wyns", "Mattheus", "Van Impe", "Verbeeck", "Beyens",
    "Van Goethem", "Dewaele", "Van Cauwenberghe", "Verdonck", "Geens",
    "Vanderstraeten", "Baeten", "Weyns", "Kerkhofs", "Vandeputte", "Hoste", "De Jonghe",
    "Ghijs", "Jorissen", "Creemers", "Knaepen", "Vanmechelen", "Thijs", "Lenaerts",
    "Bollen", "Swinnen", "Vanderheyden", "Claessens", "Ramaekers", "Bex", "Schoofs",
    "Reynders", "Vrancken", "Vanherck", "Poelmans", "Ooms", "Van Gorp", "Mols",
    "Meulemans", "Adriaensen", "Sterckx", "Vinck", "Van Dessel", "Kenis", "Peters",
    "Van Meerbeeck", "De Bruyn", "Van Mol", "Moons", "Bertels", "De Ridder", "Van Eyck",
    "Heremans", "Decoster", "Van Hulle", "Deschepper", "Deconinck", "Lievens",
    "Rosseel", "Tack", "Devriendt", "Dejonckheere", "Vandenbussche", "Lannoo",
    "Debaere", "Vanwalleghem", "Degryse", "Delanghe", "Verhulst", "Vansteenkiste",
    "Seynaeve", "Coussement", "Deleu", "Vandecasteele", "Debruyne", "Vanackere",
    "Goethals", "De Paepe", "Dhaene", "Vandaele", "Van Hoecke", "El Amrani", "Yilmaz",
    "Kaya", "Benali", "Nowak",
)))

FIRST_NAMES: tuple[str, ...] = tuple(dict.fromkeys((
    "Jan", "Peter", "Marc", "Luc", "Dirk", "Patrick", "Johan", "Geert", "Bart", "Tom",
    "Kris", "Wim", "Koen", "Stijn", "Pieter", "Jeroen", "Joris", "Steven", "Filip",
    "Erik", "Frank", "Paul", "Jozef", "Willy", "Rudi", "Guido", "Hilde", "Ann", "Els",
    "Katrien", "Sofie", "Sarah", "Lies", "Inge", "Veerle", "Nathalie", "Kathleen",
    "Karen", "Tine", "Leen", "Eva", "Lotte", "Emma", "Lucas", "Noah", "Liam", "Arthur",
    "Louis", "Jules", "Olivia", "Marie", "Julie", "Laura", "Charlotte", "Nina", "Elise",
    "Hanne", "Lien", "Ruben", "Thomas", "Wouter", "Maarten", "Sander", "Jens", "Robbe",
    "Seppe", "Ward", "Stefan", "Dries", "Jonas", "Simon", "Vincent", "Nick", "Glenn",
    "Kevin", "Bram", "Gert", "Hans", "Kurt", "Sven", "Tim", "Ine", "Evy", "Griet",
    "Mieke", "Nele", "Annelies", "Marleen", "Martine", "Christine", "Rita", "Linda",
    "Carine", "Caroline", "Ilse", "Sabine", "Jolien", "Femke", "Fien", "Ellen", "Heidi",
    "Joke", "Yannick", "Mathias", "Lowie", "Mohamed", "Ahmed", "Youssef", "Fatima",
    "Yasmine", "Sara", "Ayoub", "Mehmet", "Elif",
)))

# Sector words: (word, NACE code, abbreviation used in noisy copies, weight).
SECTORS: tuple[tuple[str, str, str, float], ...] = (
    ("Bakkerij", "10.71", "Bakk.", 6), ("Slagerij", "47.22", "Slag.", 3),
    ("Beenhouwerij", "47.22", "Beenh.", 2), ("Garage", "45.20", "Gar.", 5),
    ("Autobedrijf", "45.11", "Autobedr.", 3), ("Schrijnwerkerij", "43.32", "Schrijnw.", 4),
    ("Bouwbedrijf", "41.20", "Bouwbedr.", 6), ("Bouwonderneming", "41.20", "Bouwond.", 3),
    ("Aannemingen", "41.20", "Aann.", 4), ("Elektriciteitswerken", "43.21", "Elektr.", 4),
    ("Elektro", "43.21", "El.", 2), ("Sanitair", "43.22", "San.", 3),
    ("Loodgieterij", "43.22", "Loodg.", 2), ("Schilderwerken", "43.34", "Schilderw.", 4),
    ("Dakwerken", "43.91", "Dakw.", 3), ("Vloeren", "43.33", "Vl.", 2),
    ("Transport", "49.41", "Transp.", 4), ("Drukkerij", "18.12", "Drukk.", 1),
    ("Bloemen", "47.76", "Bl.", 2), ("Immo", "68.31", "Im.", 4),
    ("Vastgoed", "68.20", "Vastg.", 3), ("Kapsalon", "96.02", "Kaps.", 5),
    ("Schoonheidssalon", "96.02", "Schoonh.salon", 2),
    ("Advocatenkantoor", "69.10", "Adv.kantoor", 3),
    ("Boekhoudkantoor", "69.20", "Boekh.kantoor", 3), ("Accountancy", "69.20", "Acc.", 2),
    ("Architectenbureau", "71.11", "Arch.bureau", 2),
    ("Tandartspraktijk", "86.23", "Tandartsprakt.", 2),
    ("Huisartsenpraktijk", "86.21", "Huisartsenprakt.", 2), ("Apotheek", "47.73", "Apoth.", 2),
    ("Café", "56.30", "Cafe", 4), ("Restaurant", "56.10", "Rest.", 4),
    ("Frituur", "56.10", "Frit.", 3), ("Hotel", "55.10", "Htl", 1),
    ("Brasserie", "56.10", "Bras.", 2), ("Tuinaanleg", "81.30", "Tuinaanl.", 3),
    ("Schoonmaak", "81.21", "Schoonm.", 2), ("Fietsen", "47.64", "Fiets.", 1),
    ("Meubelen", "31.09", "Meub.", 1), ("Mode", "47.71", "Md.", 2),
    ("Verzekeringen", "66.22", "Verz.", 2), ("Consult", "70.22", "Cons.", 4),
    ("Reclame", "73.11", "Recl.", 1), ("Kinderopvang", "88.91", "Kinderopv.", 2),
    ("Fitness", "93.13", "Fitn.", 1), ("Mechanica", "25.62", "Mech.", 2),
    ("Software", "62.01", "Softw.", 3), ("IT", "62.02", "I.T.", 2),
    ("Design", "74.10", "Des.", 1), ("Landbouwbedrijf", "01.13", "Landb.", 2),
    ("Melkveebedrijf", "01.41", "Melkv.", 1), ("Supermarkt", "47.11", "Superm.", 1),
    ("Groothandel", "46.90", "Groothand.", 2), ("Opleidingen", "85.59", "Opl.", 1),
)

# NACE (2008) classes with their Dutch description.
NACE: dict[str, str] = {
    "01.13": "Teelt van groenten, meloenen en wortel- en knolgewassen",
    "01.41": "Fokken van melkvee",
    "10.71": "Vervaardiging van brood en van vers banketbakkerswerk",
    "18.12": "Drukken (excl. kranten)",
    "25.62": "Algemene mechanica",
    "31.09": "Vervaardiging van andere meubelen",
    "41.20": "Bouw van residentiële en niet-residentiële gebouwen",
    "43.21": "Elektrotechnische installatiewerken",
    "43.22": "Loodgieterswerk, installatie van verwarming en klimaatregeling",
    "43.32": "Schrijnwerk",
    "43.33": "Vloer- en wandafwerking",
    "43.34": "Schilderen en glaszetten",
    "43.91": "Dakwerkzaamheden",
    "45.11": "Handel in auto's en lichte motorvoertuigen",
    "45.20": "Onderhoud en reparatie van motorvoertuigen",
    "46.90": "Niet-gespecialiseerde groothandel",
    "47.11": "Detailhandel in niet-gespecialiseerde winkels waarbij voedings- en "
    "genotmiddelen overheersen",
    "47.22": "Detailhandel in vlees en vleesproducten in gespecialiseerde winkels",
    "47.64": "Detailhandel in sportartikelen in gespecialiseerde winkels",
    "47.71": "Detailhandel in kleding in gespecialiseerde winkels",
    "47.73": "Apotheken",
    "47.76": "Detailhandel in bloemen, planten, zaden, kunstmeststoffen en dierenvoeding",
    "49.41": "Goederenvervoer over de weg",
    "55.10": "Hotels en dergelijke accommodatie",
    "56.10": "Eetgelegenheden",
    "56.30": "Cafés en bars",
    "62.01": "Ontwerpen en programmeren van computerprogramma's",
    "62.02": "Computerconsultancy-activiteiten",
    "66.22": "Activiteiten van verzekeringsagenten en -makelaars",
    "68.20": "Verhuur en exploitatie van eigen of geleasd onroerend goed",
    "68.31": "Bemiddeling bij de handel in onroerend goed",
    "69.10": "Rechtskundige dienstverlening",
    "69.20": "Accountants, boekhouders en belastingconsulenten",
    "70.22": "Advisering op het gebied van bedrijfsvoering",
    "71.11": "Architecten",
    "73.11": "Reclamebureaus",
    "74.10": "Gespecialiseerde ontwerpactiviteiten",
    "81.21": "Algemene reiniging van gebouwen",
    "81.30": "Landschapsverzorging",
    "85.59": "Overig onderwijs",
    "86.21": "Huisartspraktijken",
    "86.23": "Tandartspraktijken",
    "88.91": "Kinderopvang",
    "93.13": "Fitnesscentra",
    "94.99": "Overige verenigingen",
    "96.02": "Haarverzorging en schoonheidsverzorging",
}

# Legal forms of legal persons: (abbreviation, weight); BVBA, CVBA and LV are legacy.
LEGAL_FORMS: tuple[tuple[str, float], ...] = (
    ("BV", 48), ("BVBA", 14), ("NV", 10), ("VZW", 10), ("CV", 3), ("CVBA", 3),
    ("CommV", 4), ("VOF", 4), ("Maatschap", 1.5), ("Stichting", 1), ("LV", 0.5),
    ("IVZW", 1),
)
# How a noisy copy may write a legal form instead ("changed"): same form, other
# spelling, or the legacy/successor form.
LEGAL_FORM_VARIANTS: dict[str, str] = {
    "BV": "BVBA", "BVBA": "BV", "NV": "N.V.", "VZW": "V.Z.W.", "CV": "CVBA", "CVBA": "CV",
    "CommV": "Comm.V.", "VOF": "V.O.F.", "Maatschap": "Mts.", "Stichting": "Stg.",
    "LV": "Landbouwvennootschap", "IVZW": "I.V.Z.W.",
}

# Invented brand tokens: prefix + optional middle + suffix ("Vandex", "Protecnova").
BRAND_PREFIXES: tuple[str, ...] = (
    "Ver", "Van", "Pro", "Tec", "Al", "Bel", "Flan", "Nor", "Euro", "Ar", "Co", "Di",
    "Ma", "Re", "Sol", "Ter", "Vi", "Ze", "Lu", "Om", "Kem", "Del", "Mer", "Scal",
)
BRAND_MIDDLES: tuple[str, ...] = ("", "", "", "", "ta", "ro", "li", "ve", "no", "ka", "mi")
BRAND_SUFFIXES: tuple[str, ...] = (
    "dex", "tra", "nova", "mar", "lux", "ico", "ton", "ex", "ia", "lon", "sys", "tec",
    "vo", "ma", "ra", "da", "ko", "quest", "line", "plan", "gro", "med", "tis", "form",
)
BRAND_WORDS: tuple[str, ...] = (
    "Solutions", "Group", "Services", "Invest", "Consult", "Projects", "Logistics",
    "Technics", "Engineering", "Partners", "Holding", "Industries", "Retail", "Bouw",
    "Trading", "Management", "Construct", "Systems", "Food", "Care",
)

MANAGER_FUNCTIONS: tuple[tuple[str, float], ...] = (
    ("Zaakvoerder", 50), ("Bestuurder", 25), ("Gedelegeerd bestuurder", 15),
    ("Voorzitter", 5), ("CEO", 5),
)
OWNER_FUNCTIONS: tuple[tuple[str, float], ...] = (("Zaakvoerder", 50), ("Uitbater", 50))
LEGAL_SITUATIONS_ACTIVE: tuple[tuple[str, float], ...] = (
    ("Normale toestand", 96), ("Gerechtelijke reorganisatie", 2),
    ("Faillissement", 1.5), ("Vereffening", 0.5),
)
LEGAL_SITUATIONS_STOPPED: tuple[tuple[str, float], ...] = (
    ("Stopzetting", 50), ("Faillissement", 25), ("Vereffening", 15),
    ("Ontbinding", 10),
)
MAIL_PROVIDERS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 45), ("telenet.be", 25), ("skynet.be", 10), ("hotmail.com", 12),
    ("outlook.com", 5), ("proximus.be", 3),
)

# Dossiers (Gegeven 1): the services and support measures; (name, description, is
# a grant, weight).
SERVICES: tuple[tuple[str, str, bool, float], ...] = (
    ("KMO-portefeuille", "Subsidie voor opleiding en advies van kmo's", True, 30),
    ("Innovatieproject", "Steun voor innovatieprojecten van ondernemingen", True, 6),
    ("Ontwikkelingsproject", "Steun voor experimentele ontwikkeling", True, 5),
    ("Strategische investeringssteun", "Steun voor grote investeringen", True, 2),
    ("Strategische transformatiesteun", "Steun voor investeringen in transformatie", True, 2),
    ("Kmo-groeisubsidie", "Subsidie voor het aanwerven van strategisch profiel", True, 4),
    ("Haalbaarheidsstudie", "Steun voor een haalbaarheidsstudie", True, 3),
    ("Ecologiepremie+", "Premie voor ecologie-investeringen", True, 4),
    ("Groeitraject", "Begeleiding van groeiende ondernemingen", False, 8),
    ("Starterscoaching", "Coaching van startende ondernemers", False, 10),
    ("Bedrijfsadvies", "Adviesgesprek over de onderneming", False, 12),
    ("Overnameadvies", "Begeleiding bij bedrijfsoverdracht en overname", False, 3),
    ("Digitaliseringstraject", "Begeleiding bij digitalisering", False, 5),
    ("Internationaliseringsadvies", "Advies over buitenlandse markten", False, 2),
    ("Herstructureringsbegeleiding", "Begeleiding van ondernemingen in moeilijkheden", False, 2),
    ("Energieadvies", "Advies over energie-efficiëntie", False, 2),
)
THEMES: tuple[str, ...] = (
    "Innovatie", "Digitalisering", "Duurzaamheid", "Groei", "Internationalisering",
    "Financiering", "Ondernemerschap", "Opleiding", "Overname", "Energie",
    "Circulaire economie", "Arbeidsmarkt",
)
DOSSIER_STATUSES: tuple[tuple[str, float], ...] = (
    ("Ingediend", 8), ("In behandeling", 15), ("Goedgekeurd", 25), ("Afgewezen", 7),
    ("Afgesloten", 45),
)
CONTACT_FUNCTIONS: tuple[tuple[str, float], ...] = (
    ("Zaakvoerder", 35), ("CFO", 8), ("Financieel directeur", 6), ("HR-manager", 8),
    ("Office manager", 10), ("Projectleider", 10), ("R&D-manager", 5), ("Boekhouder", 8),
    ("Operationeel directeur", 6), ("Aankoper", 4),
)
CONTACT_DEPARTMENTS: tuple[str, ...] = (
    "Directie", "Financiën", "HR", "R&D", "Productie", "Administratie", "Verkoop",
)
STAFF_FUNCTIONS: tuple[tuple[str, float], ...] = (
    ("Bedrijfsadviseur", 30), ("Accountmanager", 20), ("Dossierbeheerder", 20),
    ("Innovatieadviseur", 12), ("Teamcoördinator", 6), ("Beleidsmedewerker", 8),
    ("Diensthoofd", 4),
)
STAFF_SERVICES: tuple[str, ...] = (
    "Antwerpen", "Limburg", "Oost-Vlaanderen", "Vlaams-Brabant", "West-Vlaanderen",
    "Centraal",
)
STAFF_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "VLAIO": ("Innoveren", "Ondernemen", "Steunmaatregelen", "Ruimtelijke economie"),
    "TBT": ("Bedrijfstrajecten", "Frontoffice"),
}


def weights(pairs: tuple[tuple[object, float], ...] | NDArray[np.float64]) -> NDArray[np.float64]:
    """Probabilities from relative weights (the last item of each tuple)."""
    if isinstance(pairs, np.ndarray):
        w = pairs.astype(np.float64)
    else:
        w = np.array([p[-1] for p in pairs], dtype=np.float64)
    return w / w.sum()


def zipf(n: int, exponent: float = 1.0) -> NDArray[np.float64]:
    """Zipf-like probabilities over ranks 1..n: common items repeat a lot."""
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return w / w.sum()


def objects(values: object) -> NDArray[np.object_]:
    """A 1-d object array (strings stay Python str, fast to concatenate)."""
    items = list(values)  # type: ignore[call-overload]
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def street_pool() -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """All street names with sampling probabilities (common stems and types first)."""
    types = [t for t, _ in STREET_TYPES]
    type_w = weights(STREET_TYPES)
    stem_w = zipf(len(STREET_STEMS), 0.8)
    names = [s + t for s in STREET_STEMS for t in types]
    w = (stem_w[:, None] * type_w[None, :]).ravel() * 0.85
    named_w = zipf(len(STREET_NAMES), 0.8) * 0.15
    return objects([*names, *STREET_NAMES]), np.concatenate([w, named_w])


# A long tail of less common surnames, so that the common ones repeat about as often
# as in Flanders (Peeters about 1 in 100) rather than dominating a small pool.
_TAIL_PREFIXES = ("Van ", "Van de ", "Van den ", "Vande", "Vanden", "Van der ", "De ", "Ver")
_TAIL_STEMS = (
    "Broeck", "Velde", "Berghe", "Walle", "Kerckhove", "Mol", "Bosch", "Meulen", "Poel",
    "Steen", "Wiele", "Hecke", "Linden", "Acker", "Damme", "Hove", "Loo", "Sande",
    "Plas", "Putte", "Vijver", "Houte", "Beke", "Kerkhof", "Eynde", "Heuvel", "Brande",
    "Borre", "Cauter", "Driessche", "Gucht", "Haute", "Moortel", "Neste", "Overschelde",
    "Reeth", "Schoor", "Velden", "Voorde", "Wouwer", "Zande", "Bulck", "Dijck", "Goor",
    "Kerkhoven", "Leemput", "Meerssche", "Nieuwenhuyse", "Ooteghem", "Poucke",
    "Rompaey", "Sweevelt", "Tichelen", "Vlierberghe", "Wesemael", "Asbroeck", "Biesen",
    "Caeneghem", "Dorpe", "Elsen", "Geyt", "Hoorebeke", "Langenhove", "Maele", "Riet",
)
_PATRONYM_STEMS = (
    "Jan", "Pieter", "Hendri", "Goos", "Claes", "Willem", "Adriaen", "Gerard", "Lenaert",
    "Maarten", "Mathy", "Michiel", "Robbe", "Wouter", "Joris", "Gielen", "Lambrecht",
    "Huybrecht", "Dirck", "Cornel", "Steven", "Segher", "Arnout", "Bogaert", "Coppen",
    "Geert", "Hannes", "Lauwer", "Meeu", "Nijs", "Baert", "Tielem", "Wauter", "Aert",
)
_PATRONYM_ENDINGS = ("s", "sens", "x", "ens", "ckx")


def surname_pool() -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Common surnames (Zipf-weighted, 30% of people) and a long tail (70%)."""
    tail = [p + (s if p.endswith(" ") else s.lower()) for p in _TAIL_PREFIXES for s in _TAIL_STEMS]
    tail += [s + e for s in _PATRONYM_STEMS for e in _PATRONYM_ENDINGS]
    head = set(SURNAMES)
    tail = [t for t in dict.fromkeys(tail) if t not in head]
    p = np.concatenate([zipf(len(SURNAMES), 0.5) * 0.3, np.full(len(tail), 0.7 / len(tail))])
    return objects([*SURNAMES, *tail]), p
