"""Demo data for Programma SAMEN: the 44 answers to the call of autumn 2022.

Modelled on the real programme (see programme.md): the seven core tandems carry their real
initiative names and municipalities; the other 37 initiatives and every person are invented.
Every e-mail address is on the reserved domain example.org, websites too, so nothing here can
reach a real person. The rows are the tab "Formulierreacties 1" as Google Forms writes it:
text exactly as the applicants typed it, in submission order.

Special rows (0-based indices into SEED_RESPONSES):

- core tandems: 2, 5, 11, 17, 21, 28 (Delfshaven, refused with a Rotterdam hint until the
  respondent edits it, see DELFSHAVEN_EDIT) and 36;
- invalid: 9 (the initiative's e-mail address has two "@"), 13 (the same e-mail address for both
  contacts), 18 (description of 17 characters), 34 (consent "Nee");
- submitted twice: 20 and 25 (Buurtkamer De Linde, Apeldoorn; 25 supersedes 20);
- two different initiatives from one municipality: 7 and 23 (Utrecht);
- one form e-mail address for two different initiatives: 8 and 14 (a civil servant of the
  shared service of Nuenen and Geldrop-Mierlo);
- late: 43 (31-10-2022, the call closed on 30-10-2022); otherwise valid.
"""

FORM_HEADERS: tuple[str, ...] = (
    "Tijdstempel",
    "E-mailadres",
    "Naam bewonersinitiatief",
    "Gemeente",
    "Contactpersoon initiatief",
    "E-mailadres contactpersoon initiatief",
    "Telefoonnummer contactpersoon initiatief",
    "Contactpersoon gemeente",
    "E-mailadres contactpersoon gemeente",
    "Postcode",
    "Wat doet jullie initiatief?",
    "Wat willen jullie samen bereiken?",
    "Website",
    "Toestemming",
)


def _row(*values: str) -> dict[str, str]:
    """One form response: the 14 answers in FORM_HEADERS order."""
    return dict(zip(FORM_HEADERS, values, strict=True))


# Field order of every _row: Tijdstempel, E-mailadres, Naam bewonersinitiatief, Gemeente,
# Contactpersoon initiatief, e-mail, telefoon, Contactpersoon gemeente, e-mail, Postcode,
# Wat doet jullie initiatief?, Wat willen jullie samen bereiken?, Website, Toestemming.
SEED_RESPONSES: tuple[dict[str, str], ...] = (
    # 0
    _row(
        "01-09-2022 09:12:44",
        "h.jansen@example.org",
        "Repair Café Zwolle-Zuid",
        "Zwolle",
        "Henk Jansen",
        "h.jansen@example.org",
        "06-12345678",
        "Marloes Verbeek",
        "m.verbeek@example.org",
        "8014 KS",
        "Elke tweede zaterdag repareren twaalf vrijwilligers in het wijkcentrum kapotte "
        "lampen, fietsen en kleding. Bij de koffie raken buren die elkaar nooit spraken met "
        "elkaar aan de praat.",
        "We willen een vaste plek in het wijkcentrum en samen met de gemeente jongeren uit de "
        "wijk laten meedoen als leerling-reparateur.",
        "https://repaircafe-zwollezuid.example.org",
        "Ja, ik geef toestemming",
    ),
    # 1
    _row(
        "05-09-2022 20:31:07",
        "sietske.dejong@example.org",
        "Buurtmoestuin Heechterp",
        "leeuwarden",
        "Sietske de Jong",
        "sietske.dejong@example.org",
        "06 21 43 65 87",
        "Wiebe Postma",
        "w.postma@example.org",
        "8924ab",
        "Op een braakliggend veldje tussen de flats kweken dertig buren samen groente, kruiden "
        "en bloemen. De oogst delen we, en wat over is gaat naar de buurtmaaltijd.",
        "Samen met de gemeente willen we het veldje voor tien jaar zeker stellen en een "
        "tweede tuin starten bij de basisschool.",
        "",
        "Ja",
    ),
    # 2: core tandem
    _row(
        "08-09-2022 14:03:11",
        "m.dautzenberg@example.org",
        "Vaals Verbindt",
        "Vaals",
        "Mireille Dautzenberg",
        "m.dautzenberg@example.org",
        "043 306 1234",
        "Ruud Wetzels",
        "r.wetzels@example.org",
        "6291 AB",
        "Vaals Verbindt brengt inwoners, verenigingen en nieuwkomers in ons grensdorp bij "
        "elkaar. We organiseren ontmoetingen, helpen elkaar met vragen en zetten samen "
        "plannen voor het dorp op.",
        "We willen dat bewoners en gemeente elkaar vaker en eerder vinden, zodat ideeën uit "
        "het dorp sneller werkelijkheid worden.",
        "https://vaalsverbindt.example.org",
        "Ja, ik geef toestemming",
    ),
    # 3
    _row(
        "12-09-2022 11:47:58",
        "priya.ramdin@example.org",
        "Samen Eten Almere Haven",
        " Almere",
        "Priya Ramdin",
        "priya.ramdin@example.org",
        "+31 6 1234 5678",
        "Tom de Graaf",
        "t.degraaf@example.org",
        "1353 HK",
        "Elke woensdag koken vrijwilligers een verse maaltijd voor drie euro in de "
        "buurtkamer. Er eten zo'n veertig mensen mee, van alleenstaande ouderen tot gezinnen "
        "met kleine kinderen.",
        "We willen een tweede kookavond starten en samen met de gemeente zorgen dat mensen "
        "die eenzaam zijn de weg naar onze tafel vinden.",
        "www.example.org/samen-eten-almere-haven",
        "Ja, ik geef toestemming",
    ),
    # 4
    _row(
        "15-09-2022 21:15:30",
        "aster.tesfaye@example.org",
        "Taalcafé Nijmegen-Oost",
        "Nijmegen",
        "Aster Tesfaye",
        "aster.tesfaye@example.org",
        "0612345670",
        "Joost Hendriks",
        "j.hendriks@example.org",
        "6522 CN",
        "In ons taalcafé oefenen nieuwkomers elke donderdagavond Nederlands met buurtgenoten. "
        "We praten over alledaagse dingen: de huisarts, de school, het weer.",
        "We willen dat nieuwkomers sneller mee kunnen doen in de wijk, en dat de gemeente ons "
        "taalcafé ziet als partner bij de inburgering.",
        "",
        "Ja",
    ),
    # 5: core tandem
    _row(
        "19-09-2022 10:02:19",
        "jorrit.zijlstra@example.org",
        "Stadmakerswerkplaats Groningen",
        "Groningen",
        "Jorrit Zijlstra",
        "jorrit.zijlstra@example.org",
        "050 123 4567",
        "Nadia El Khatib",
        "n.elkhatib@example.org",
        "9711 LM",
        "In de werkplaats komen bewoners met een plan voor hun straat of wijk samen met "
        "stadmakers, ambtenaren en ondernemers. We helpen elkaar van idee naar uitvoering.",
        "We willen samen met de gemeente leren hoe initiatieven van bewoners sneller en met "
        "minder regels de ruimte krijgen.",
        "https://stadmakerswerkplaats.example.org",
        "Ja, ik geef toestemming",
    ),
    # 6
    _row(
        "21-09-2022 16:40:05",
        "jo.lemmens@example.org",
        "Buurtnetwerk Malberg",
        "Maastricht",
        "Jo Lemmens",
        "jo.lemmens@example.org",
        "06-23456781",
        "Fatima Aksoy",
        "f.aksoy@example.org",
        "6216 RD",
        "Buren helpen buren in Malberg: een boodschap doen, een lamp ophangen, samen naar het "
        "ziekenhuis. Zestig bewoners staan op onze lijst en bellen elkaar als het nodig is.",
        "We willen samen met de gemeente en het wijkteam hulpvragen eerder opvangen, voordat "
        "ze een zorgvraag worden.",
        "malberg.example.org",
        "Ja",
    ),
    # 7: first of two initiatives from Utrecht
    _row(
        "23-09-2022 13:22:48",
        "mehmet.yilmaz@example.org",
        "Repair Café Lombok",
        "Utrecht",
        "Mehmet Yılmaz",
        "mehmet.yilmaz@example.org",
        "030 234 5678",
        "Anouk de Vries",
        "anouk.devries@example.org",
        "3531 BR",
        "Elke maand repareren we in de moskee en in het buurthuis om de beurt naaimachines, "
        "koffiezetapparaten en fietsen. Zo ontmoeten buren met heel verschillende achtergronden "
        "elkaar.",
        "We willen een vaste werkplaats in Lombok en samen met de gemeente minder afval in de "
        "wijk.",
        "https://www.example.org/repaircafe-lombok",
        "Ja, ik geef toestemming",
    ),
    # 8: form filled in by the civil servant of Dienst Dommelvallei (see also 14)
    _row(
        "26-09-2022 09:55:01",
        "e.vanderlinden@example.org",
        "Repair Café Nuenen",
        "Nuenen, Gerwen en Nederwetten",
        "Wim van Rooij",
        "wim.vanrooij@example.org",
        "040 283 1234",
        "Esther van der Linden",
        "e.vanderlinden@example.org",
        "5671 CD",
        "Gepensioneerde vakmensen repareren elke derde zaterdag spullen van dorpsgenoten in "
        "het dorpshuis. Gemiddeld redden we zo'n vijftig apparaten per keer van de afvalberg.",
        "We willen jongeren en statushouders laten meedraaien, zodat vakkennis wordt "
        "doorgegeven en nieuwe dorpsgenoten erbij horen.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 9: invalid, the initiative's e-mail address has two "@"
    _row(
        "28-09-2022 19:08:36",
        "p.visser@example.org",
        "Buurtkracht Lelystad",
        "Lelystad",
        "Dewi Hartono",
        "info@buurtkracht@example.org",
        "06-34567812",
        "Pieter Visser",
        "p.visser@example.org",
        "8232 VN",
        "Buurtkracht is een groep bewoners die samen de wijk schoon, groen en gezellig houdt. "
        "We prikken zwerfafval, onderhouden de plantenbakken en organiseren een straatfeest.",
        "We willen dat de gemeente ons vaker vraagt mee te denken over de inrichting van de "
        "buitenruimte in onze wijk.",
        "buurtkracht.example.org",
        "Ja",
    ),
    # 10
    _row(
        "30-09-2022 11:30:12",
        "kees.willemsen@example.org",
        "Klushulp Presikhaaf",
        "Arnhem",
        "Kees Willemsen",
        "kees.willemsen@example.org",
        "",
        "Samira Ouali",
        "s.ouali@example.org",
        "6825 AH",
        "Vrijwillige klussers helpen bewoners met een smalle beurs bij kleine reparaties in "
        "huis: een lekkende kraan, een klemmende deur, tochtstrips.",
        "Samen met de gemeente en de woningcorporatie willen we energiearmoede in de wijk "
        "verkleinen met eenvoudige maatregelen.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 11: core tandem
    _row(
        "03-10-2022 15:17:43",
        "gj.mulder@example.org",
        "Het 8ste Werk",
        "Kampen",
        "Gerrit-Jan Mulder",
        "gj.mulder@example.org",
        "038 331 2345",
        "Ilse van Dijk",
        "i.vandijk@example.org",
        "8261 GK",
        "Het 8ste Werk is een plek in Kampen waar bewoners elkaar helpen en ontmoeten. Er is "
        "een werkplaats, een huiskamer en een maaltijd, en iedereen doet mee naar vermogen.",
        "We willen samen met de gemeente laten zien hoe bewoners zelf zorg en welzijn in de "
        "buurt kunnen dragen.",
        "https://het8stewerk.example.org",
        "Ja, ik geef toestemming",
    ),
    # 12
    _row(
        "05-10-2022 10:44:27",
        "ayse.kaya@example.org",
        "Wijkcoöperatie Poelenburg",
        "zaanstad",
        "Ayşe Kaya",
        "ayse.kaya@example.org",
        "06-45678123",
        "Niels Kok",
        "n.kok@example.org",
        "1504 RE",
        "Onze coöperatie laat bewoners betaald werk doen in de eigen wijk: schoonmaak, "
        "groenonderhoud en kinderopvang. De opbrengst blijft in Poelenburg.",
        "We willen dat de gemeente opdrachten in de wijk eerst aan de coöperatie aanbiedt, "
        "zodat meer buren aan het werk komen.",
        "https://www.example.org/wijkcooperatie-poelenburg",
        "Ja",
    ),
    # 13: invalid, the same e-mail address for both contacts
    _row(
        "06-10-2022 22:03:54",
        "m.hoekstra@example.org",
        "Dorpshuis 't Trefpunt",
        "Westerveld",
        "Marijke Hoekstra",
        "m.hoekstra@example.org",
        "0521 123456",
        "Jan Oosting",
        "m.hoekstra@example.org",
        "7971 BD",
        "Het dorpshuis wordt al acht jaar door vrijwilligers beheerd. Er zijn een "
        "biljartclub, een koor, de peuterspeelzaal en elke vrijdag een soosmiddag.",
        "We willen het dorpshuis verduurzamen en samen met de gemeente afspraken maken over "
        "het beheer voor de komende jaren.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 14: the same civil servant as 8, for a second initiative
    _row(
        "07-10-2022 14:26:09",
        "e.vanderlinden@example.org",
        "Samen Zorgen Mierlo",
        "Geldrop-Mierlo",
        "Thea Swinkels",
        "thea.swinkels@example.org",
        "06-56781234",
        "Esther van der Linden",
        "e.vanderlinden@example.org",
        "5731 GS",
        "Een zorgcoöperatie van en voor inwoners van Mierlo: vrijwilligers rijden ouderen naar "
        "de dokter, doen boodschappen en bieden een maatje aan wie alleen is.",
        "We willen dat ouderen langer prettig thuis kunnen wonen, met de gemeente als vaste "
        "partner in plaats van losse subsidies per jaar.",
        "https://samenzorgenmierlo.example.org",
        "Ja, ik geef toestemming",
    ),
    # 15
    _row(
        "10-10-2022 09:38:50",
        "s.meijer@example.org",
        "Buurtbeheerbedrijf Van der Pek",
        "Amsterdam",
        "Ricardo Martina",
        "ricardo.martina@example.org",
        "020 123 4567",
        "Sophie Meijer",
        "s.meijer@example.org",
        "1031 KZ",
        "Bewoners van de Van der Pekbuurt beheren samen het buurthuis, de speeltuin en een "
        "klein café. Jongeren uit de buurt werken er als gastheer en leren een vak.",
        "We willen het buurthuis in eigen beheer nemen, met een huurcontract voor langere tijd "
        "en een vaste contactpersoon bij het stadsdeel.",
        "www.example.org/vanderpek",
        "Ja",
    ),
    # 16
    _row(
        "11-10-2022 16:12:31",
        "gerda.nijhuis@example.org",
        "Voedseltuin Twekkelerveld",
        "Enschede",
        "Gerda Nijhuis",
        "gerda.nijhuis@example.org",
        "053 456 7890",
        "Bilal Chaouch",
        "b.chaouch@example.org",
        "7523 DL",
        "Op de voedseltuin telen vrijwilligers groente voor gezinnen die het krap hebben. Elke "
        "week gaan er zo'n zestig kratten naar het uitdeelpunt in de wijk.",
        "Samen met de gemeente willen we de tuin uitbreiden en mensen in de bijstand een "
        "zinvolle dagbesteding bieden.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 17: core tandem
    _row(
        "12-10-2022 20:49:15",
        "sanne.kuipers@example.org",
        "Stichting Plaats de Wereld",
        "Tynaarlo",
        "Sanne Kuipers",
        "sanne.kuipers@example.org",
        "0592 123456",
        "Harm Lubbers",
        "h.lubbers@example.org",
        "9481 AB",
        "Plaats de Wereld brengt dorpsgenoten samen rond kunst, natuur en ontmoeting. Jong en "
        "oud bedenken en maken samen iets moois voor hun dorp.",
        "We willen samen met de gemeente een manier vinden om initiatieven uit de dorpen "
        "duurzaam te steunen, niet alleen met geld maar ook met ruimte.",
        "plaatsdewereld.example.org",
        "Ja",
    ),
    # 18: invalid, description shorter than 20 characters
    _row(
        "13-10-2022 11:05:42",
        "dylan.kramer@example.org",
        "Jongerenplek De Kelder",
        "Den Helder",
        "Dylan Kramer",
        "dylan.kramer@example.org",
        "06-67812345",
        "Monique Vlaming",
        "m.vlaming@example.org",
        "1781 JN",
        "Zie onze website.",
        "We willen een veilige plek waar jongeren uit Den Helder zelf activiteiten bedenken, "
        "met steun van de gemeente voor huur en begeleiding.",
        "https://dekelder.example.org",
        "Ja, ik geef toestemming",
    ),
    # 19
    _row(
        "14-10-2022 13:58:27",
        "marianne.koster@example.org",
        "Geldcafé Schalkwijk",
        "Haarlem",
        "Marianne Koster",
        "marianne.koster@example.org",
        "023 512 3456",
        "Hamza Benali",
        "h.benali@example.org",
        "2035ra",
        "In het Geldcafé helpen getrainde vrijwilligers buurtbewoners met brieven, "
        "toeslagen en het overzicht in hun geldzaken. Zonder wachtlijst en met koffie.",
        "We willen schulden voorkomen door samen met de gemeente mensen eerder te bereiken, "
        "voordat een rekening een aanmaning wordt.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 20: first submission of Buurtkamer De Linde (superseded by 25)
    _row(
        "16-10-2022 19:44:38",
        "jolanda.brouwer@example.org",
        "Buurtkamer De Linde",
        "Apeldoorn",
        "Jolanda Brouwer",
        "jolanda.brouwer@example.org",
        "06-78123456",
        "Erik Timmerman",
        "e.timmerman@example.org",
        "7323 PA",
        "De buurtkamer is vier ochtenden per week open voor koffie, een praatje en hulp bij "
        "formulieren. Vrijwilligers uit de straat houden hem draaiende.",
        "We willen de buurtkamer ook 's middags openen en samen met de gemeente meer "
        "eenzame ouderen bereiken.",
        "buurtkamerdelinde.example.org",
        "Ja",
    ),
    # 21: core tandem
    _row(
        "17-10-2022 08:57:16",
        "yusuf.demir@example.org",
        "Stagehuis Schilderswijk",
        "Den Haag",
        "Yusuf Demir",
        "yusuf.demir@example.org",
        "070 123 4567",
        "Karin Smit",
        "k.smit@example.org",
        "2525 VE",
        "In het Stagehuis wonen en werken studenten samen met bewoners aan vragen uit de "
        "Schilderswijk. Ze helpen bij huiswerk, taal en projecten in de straat.",
        "We willen dat jongeren uit de wijk en studenten van buiten elkaar versterken, en dat "
        "de gemeente met ons leert wat werkt in de wijk.",
        "https://stagehuis.example.org",
        "Ja, ik geef toestemming",
    ),
    # 22
    _row(
        "17-10-2022 15:33:49",
        "kofi.mensah@example.org",
        "Moestuin Krispijn",
        "Dordrecht",
        "Kofi Mensah",
        "kofi.mensah@example.org",
        "+31 6 8123 4567",
        "Linda van Leeuwen",
        "l.vanleeuwen@example.org",
        "3317 AK",
        "Twintig gezinnen uit Krispijn hebben elk een eigen bak in de gezamenlijke moestuin. "
        "Kinderen leren er waar hun eten vandaan komt.",
        "We willen een tuinhuisje met water en een toilet, zodat we ook kooklessen en "
        "schoolbezoeken kunnen geven.",
        "",
        "Ja",
    ),
    # 23: second, different initiative from Utrecht (see 7)
    _row(
        "18-10-2022 12:10:24",
        "hanan.amrani@example.org",
        "Voedselbos Overvecht",
        "utrecht",
        "Hanan Amrani",
        "hanan.amrani@example.org",
        "06-81234567",
        "Daan Vermeulen",
        "d.vermeulen@example.org",
        "3563 CA",
        "Bewoners planten in het park een voedselbos met notenbomen, fruit en bessen. Elke "
        "zondag werken we samen, en buurtkinderen mogen altijd plukken.",
        "We willen het voedselbos samen met de gemeente beheren en laten zien dat groen in de "
        "wijk ook eetbaar en van iedereen kan zijn.",
        "https://www.example.org/voedselbos-overvecht",
        "Ja, ik geef toestemming",
    ),
    # 24
    _row(
        "19-10-2022 21:37:02",
        "hennie.wolters@example.org",
        "Zorgcoöperatie Markelo",
        "hof van twente",
        "Hennie Wolters",
        "hennie.wolters@example.org",
        "0547 123456",
        "Marieke Olthof",
        "m.olthof@example.org",
        "7475 AA",
        "Onze zorgcoöperatie regelt hulp in het dorp door dorpsgenoten: vervoer, een warme "
        "maaltijd en een dagopvang voor ouderen in het oude schoolgebouw.",
        "We willen dat ouderen in Markelo oud kunnen worden in hun eigen dorp, met de "
        "gemeente als partner in plaats van als loket.",
        "",
        "Ja",
    ),
    # 25: Buurtkamer De Linde submits again, slightly changed; supersedes 20
    _row(
        "20-10-2022 09:14:55",
        "jolanda.brouwer@example.org",
        "Buurtkamer De Linde",
        "Apeldoorn",
        "Jolanda Brouwer",
        "jolanda.brouwer@example.org",
        "06-78123456",
        "Erik Timmerman",
        "e.timmerman@example.org",
        "7323 PA",
        "De buurtkamer is vier ochtenden per week open voor koffie, een praatje en hulp bij "
        "formulieren. Twaalf vrijwilligers uit de straat houden hem draaiende.",
        "We willen de buurtkamer ook 's middags openen en samen met de gemeente en het "
        "wijkteam meer eenzame ouderen bereiken.",
        "buurtkamerdelinde.example.org",
        "Ja",
    ),
    # 26
    _row(
        "20-10-2022 16:48:20",
        "p.debruijn@example.org",
        "Dorpsauto Asperen",
        "West Betuwe",
        "Arjen van Wijk",
        "arjen.vanwijk@example.org",
        "0345 612345",
        "Petra de Bruijn",
        "p.debruijn@example.org",
        "4147 BA",
        "Het dorp deelt twee elektrische auto's die op zonnestroom van het dorpshuis rijden. "
        "Vrijwilligers rijden ook ouderen zonder auto naar de markt in de stad.",
        "We willen het vervoer in de kleine kernen samen met de gemeente beter regelen, nu de "
        "bus nog maar twee keer per dag komt.",
        "https://dorpsauto-asperen.example.org",
        "Ja, ik geef toestemming",
    ),
    # 27
    _row(
        "21-10-2022 10:27:33",
        "magda.nowak@example.org",
        "Sociale Supermarkt De Stek",
        "Tilburg",
        "Magda Nowak",
        "magda.nowak@example.org",
        "",
        "Ruben Schellekens",
        "r.schellekens@example.org",
        "5042ng",
        "In onze winkel doen mensen met een laag inkomen boodschappen met punten. De "
        "producten krijgen we van supermarkten en boeren uit de buurt.",
        "Samen met de gemeente willen we meer mensen bereiken die net buiten de regelingen "
        "vallen, en hen ook helpen met werk en geldzaken.",
        "www.example.org/destek",
        "Ja",
    ),
    # 28: core tandem; "Delfshaven" is a district of Rotterdam, later edited (DELFSHAVEN_EDIT)
    _row(
        "22-10-2022 14:52:07",
        "rachida.bouzid@example.org",
        "Welzijnscoöperatie Delfshaven",
        "Delfshaven",
        "Rachida Bouzid",
        "rachida.bouzid@example.org",
        "010 123 4567",
        "Marco Verhoeven",
        "m.verhoeven@example.org",
        "3024 BK",
        "De coöperatie is van bewoners, vrijwilligers en zorgverleners in Delfshaven. We "
        "organiseren welzijn dichtbij: ontmoeting, ondersteuning en werk in de eigen buurt.",
        "We willen samen met de gemeente laten zien dat bewoners zelf welzijn kunnen "
        "organiseren, met eerlijk werk voor mensen uit de wijk.",
        "https://welzijnscooperatie.example.org",
        "Ja, ik geef toestemming",
    ),
    # 29
    _row(
        "23-10-2022 20:19:44",
        "lotte.smulders@example.org",
        "Buurtbakkerij Woensel-West",
        "Eindhoven",
        "Lotte Smulders",
        "lotte.smulders@example.org",
        "040 212 3456",
        "Ahmet Çelik",
        "a.celik@example.org",
        "5621 HS",
        "In de buurtbakkerij bakken bewoners samen brood uit alle keukens van de wijk: Turks, "
        "Marokkaans, Pools en Brabants. Wie wil leren bakken, schuift aan.",
        "We willen de bakkerij uitbouwen tot leerwerkplek, zodat buurtbewoners zonder werk een "
        "diploma kunnen halen.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 30
    _row(
        "24-10-2022 11:02:58",
        "floor.vandermeer@example.org",
        "Stichting Sterk in de Stevenshof",
        "Leiden",
        "Floor van der Meer",
        "floor.vandermeer@example.org",
        "612345678",
        "Rik Zwart",
        "r.zwart@example.org",
        "2333 BN",
        "We zijn een groep bewoners die de Stevenshof leefbaar houdt: een huiswerkklas, "
        "wandelgroepen en een burenhulplijn. Alles draait op ruim tachtig vrijwilligers.",
        "We willen dat de gemeente onze activiteiten meeneemt in haar wijkplan en dat we samen "
        "beslissen over het buurtbudget.",
        "sterkindestevenshof.example.org",
        "Ja",
    ),
    # 31
    _row(
        "24-10-2022 17:36:15",
        "naima.azzouzi@example.org",
        "Mama's van Nieuwland",
        "Schiedam",
        "Naima Azzouzi",
        "naima.azzouzi@example.org",
        "06-12348765",
        "Bas Groenewegen",
        "b.groenewegen@example.org",
        "3119 AR",
        "Moeders uit Nieuwland zijn er voor andere moeders: ze helpen met de opvoeding, met "
        "de school en met instanties. Elke dinsdag is er een inloop met thee.",
        "We willen dat de gemeente ons ziet als bruggenbouwers naar gezinnen die ze zelf "
        "moeilijk bereikt, en ons daarvoor erkent.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 32
    _row(
        "25-10-2022 09:49:30",
        "kees.minderhoud@example.org",
        "Buurtwerkplaats Oud-Vlissingen",
        "Vlissingen",
        "Kees Minderhoud",
        "kees.minderhoud@example.org",
        "0118 412345",
        "Eline Dekker",
        "e.dekker@example.org",
        "4381 CJ",
        "In een oude loods timmeren, lassen en schilderen buurtbewoners samen. Oud-vaklui van "
        "de werf leren jongeren het vak.",
        "We willen de werkplaats een vaste plek geven in de oude binnenstad en samen met de "
        "gemeente jongeren aan een leerplek helpen.",
        "https://www.example.org/buurtwerkplaats",
        "Ja",
    ),
    # 33
    _row(
        "25-10-2022 22:11:06",
        "a.cijsouw@example.org",
        "Samen Sas",
        "Terneuzen",
        "Marc De Smet",
        "marc.desmet@example.org",
        "0115 451234",
        "Annemiek Cijsouw",
        "a.cijsouw@example.org",
        "4551 BT",
        "Samen Sas houdt het dorp levendig: een dorpsagenda, een klussendienst en een "
        "ontmoetingsplek in de oude bibliotheek.",
        "We willen dat de kleine kernen in de gemeente samen met de gemeente een eigen "
        "dorpsbudget krijgen.",
        "",
        "Ja, ik geef toestemming",
    ),
    # 34: invalid, no consent
    _row(
        "26-10-2022 13:24:51",
        "ingrid.bemelmans@example.org",
        "Voedselhulp Samen Delen",
        "Heerlen",
        "Ingrid Bemelmans",
        "ingrid.bemelmans@example.org",
        "045 571 2345",
        "Stefan Frijns",
        "s.frijns@example.org",
        "6411 EJ",
        "Elke vrijdag delen we voedselpakketten uit aan gezinnen die niet bij de voedselbank "
        "terechtkunnen. Vrijwilligers halen overschotten op bij winkels en boeren.",
        "We willen samen met de gemeente een plek waar mensen naast eten ook hulp krijgen bij "
        "hun geldzaken en hun vragen.",
        "",
        "Nee",
    ),
    # 35
    _row(
        "26-10-2022 19:58:12",
        "tim.hermans@example.org",
        "Wijkenergie Venlo-Zuid",
        "Venlo",
        "Tim Hermans",
        "tim.hermans@example.org",
        "077 351 2345",
        "Yvonne Peeters",
        "y.peeters@example.org",
        "5913 TA",
        "Energiecoaches uit de wijk gaan langs bij buren om samen de energierekening te "
        "verlagen. We hangen tochtstrips op en leggen uit hoe de thermostaat werkt.",
        "We willen een energiecoöperatie voor de wijk oprichten en samen met de gemeente de "
        "daken van de scholen vol zonnepanelen leggen.",
        "https://wijkenergie-venlo.example.org",
        "Ja",
    ),
    # 36: core tandem
    _row(
        "27-10-2022 10:33:40",
        "bram.vangestel@example.org",
        "Transfarmers en Copernikkel",
        "Den Bosch",
        "Bram van Gestel",
        "bram.vangestel@example.org",
        "073 612 3456",
        "Lieke van den Heuvel",
        "l.vandenheuvel@example.org",
        "5224 AE",
        "Twee initiatieven, één inzending: Transfarmers verbindt stad en platteland rond "
        "voedsel, Copernikkel maakt van een oude school een plek voor makers en buren.",
        "We willen samen met de gemeente ruimte maken voor experimenten van bewoners, en "
        "leren hoe de gemeente die blijvend kan ondersteunen.",
        "copernikkel.example.org",
        "Ja, ik geef toestemming",
    ),
    # 37
    _row(
        "27-10-2022 21:05:27",
        "grace.owusu@example.org",
        "Buurtpantry Soesterkwartier",
        "Amersfoort",
        "Grace Owusu",
        "grace.owusu@example.org",
        "06-21436587",
        "Maarten de Wit",
        "m.dewit@example.org",
        "3814 VR",
        "Onze pantry is een kastje op straat en een inloop in de kerk, waar buren eten en "
        "spullen brengen en halen. Niemand hoeft iets te bewijzen.",
        "We willen samen met de gemeente een vaste, warme plek voor de pantry en een buurtkok "
        "die met de overschotten kookt.",
        "",
        "Ja",
    ),
    # 38
    _row(
        "28-10-2022 11:47:19",
        "jesse.bakker@example.org",
        "Jongeren aan Zet Emmerhout",
        "Emmen",
        "Jesse Bakker",
        "jesse.bakker@example.org",
        "06-43218765",
        "Roelie Hummel",
        "r.hummel@example.org",
        "7812 KB",
        "Jongeren uit Emmerhout organiseren zelf sport, muziek en een huiswerkplek in het "
        "wijkgebouw. Oudere jongeren zijn mentor van de jongere.",
        "We willen dat jongeren echt meebeslissen over wat er in de wijk gebeurt, met een "
        "eigen budget van de gemeente.",
        "https://jongerenaanzet.example.org",
        "Ja, ik geef toestemming",
    ),
    # 39
    _row(
        "28-10-2022 23:12:45",
        "hilda.bos@example.org",
        "Bewonersbedrijf De Schakel",
        "Assen",
        "Hilda Bos",
        "hilda.bos@example.org",
        "0592 345678",
        "Tarik Aydın",
        "t.aydin@example.org",
        "9402 HV",
        "Bewoners runnen samen het buurthuis De Schakel als bedrijf, met een lunchcafé, "
        "verhuur van zalen en een fietsenmaker.",
        "We willen het gebouw overnemen van de gemeente en zo het buurthuis voor de toekomst "
        "in eigen hand houden.",
        "www.example.org/deschakel",
        "Ja",
    ),
    # 40
    _row(
        "29-10-2022 15:40:03",
        "durk.wijnsma@example.org",
        "Dorpsenergie Workum",
        "Súdwest-Fryslân",
        "Durk Wijnsma",
        "durk.wijnsma@example.org",
        "0515 541234",
        "Anneke Terpstra",
        "a.terpstra@example.org",
        "8711 BK",
        "Onze energiecoöperatie legt zonnepanelen op daken van boerderijen en verdeelt de "
        "opbrengst over het dorp. Honderdtwintig huishoudens doen al mee.",
        "We willen samen met de gemeente een warmtenet voor het dorp onderzoeken, zodat "
        "Workum van het gas af kan.",
        "https://dorpsenergieworkum.example.org",
        "Ja, ik geef toestemming",
    ),
    # 41
    _row(
        "30-10-2022 12:18:56",
        "geert.dijkstra@example.org",
        "Dorpswinkel Warffum",
        "Het Hogeland ",
        "Geert Dijkstra",
        "geert.dijkstra@example.org",
        "06-87654321",
        "Lian Wu",
        "l.wu@example.org",
        "9989 AC",
        "Toen de supermarkt sloot, hebben dorpsgenoten zelf een winkel geopend. Vrijwilligers "
        "staan achter de kassa en bezorgen boodschappen bij wie slecht ter been is.",
        "We willen de winkel ook een plek maken voor zorg en ontmoeting, met steun van de "
        "gemeente voor huur en inrichting.",
        "",
        "Ja",
    ),
    # 42: the last answer on the closing day
    _row(
        "30-10-2022 22:41:09",
        "bennie.wassink@example.org",
        "Energiecoöperatie Berkelland Zon",
        "Berkelland",
        "Bennie Wassink",
        "bennie.wassink@example.org",
        "0545 271234",
        "Judith Lansink",
        "j.lansink@example.org",
        "7271 AB",
        "We leggen samen met boeren en bewoners zonnepanelen op grote schuurdaken in het "
        "buitengebied. Leden krijgen korting op hun stroom en een stem in de coöperatie.",
        "We willen samen met de gemeente dat de opbrengst van zon en wind in de dorpen blijft, "
        "en dat bewoners mee-eigenaar worden.",
        "berkellandzon.example.org",
        "Ja, ik geef toestemming",
    ),
    # 43: late, after the call closed; otherwise valid
    _row(
        "31-10-2022 08:15:40",
        "roelof.kremer@example.org",
        "Zorgcoöperatie Hollandscheveld",
        "Hoogeveen",
        "Roelof Kremer",
        "roelof.kremer@example.org",
        "0528 341234",
        "Sara Haddad",
        "s.haddad@example.org",
        "7905 AB",
        "Dorpsgenoten zorgen voor elkaar: een dagopvang in het dorpshuis, maaltijden aan huis "
        "en een vrijwilliger die wekelijks langskomt bij wie alleen woont.",
        "We willen samen met de gemeente afspraken maken zodat de zorg in het dorp blijft, ook "
        "als de vrijwilligers van nu ouder worden.",
        "https://zorgcooperatie-hollandscheveld.example.org",
        "Ja",
    ),
)

# Index of the Delfshaven response in SEED_RESPONSES, and what changes when its respondent
# edits the response in Google Forms (the same sheet row is rewritten with these values).
DELFSHAVEN_ROW: int = 28
DELFSHAVEN_EDIT: dict[str, str] = {
    "Gemeente": "Rotterdam",
    "Tijdstempel": "27-10-2022 16:05:12",
}

# The seven core tandems (kerndeelnemers): initiative name and CBS 2024 municipality code.
CORE_TANDEMS: tuple[tuple[str, str], ...] = (
    ("Transfarmers en Copernikkel", "GM0796"),
    ("Vaals Verbindt", "GM0981"),
    ("Stichting Plaats de Wereld", "GM1730"),
    ("Het 8ste Werk", "GM0166"),
    ("Stadmakerswerkplaats Groningen", "GM0014"),
    ("Stagehuis Schilderswijk", "GM0518"),
    ("Welzijnscoöperatie Delfshaven", "GM0599"),
)

EXPECTED: dict[str, int] = {
    # Rows in SEED_RESPONSES (form responses in the sheet).
    "rows": 44,
    # Rows refused by validation on the first run: the 4 invalid rows plus Delfshaven (a
    # district, answered with a "did you mean Rotterdam" hint).
    "invalid_rows": 5,
    # Rows still refused after DELFSHAVEN_EDIT has been applied.
    "invalid_rows_after_edit": 4,
    # Rows superseded by a later response of the same initiative and municipality.
    "superseded": 1,
    # Valid applications on the first run: rows - invalid_rows - superseded.
    "applications": 38,
    # Valid applications after DELFSHAVEN_EDIT: the Rotterdam tandem joins.
    "applications_after_edit": 39,
    # Responses that arrived after the call closed on 30-10-2022 (valid otherwise).
    "late": 1,
    # Core tandems (kerndeelnemers) among the applications, after the edit.
    "core": 7,
    # Municipalities with two different initiatives (a "same municipality" signal).
    "municipalities_with_two_initiatives": 1,
    # Form e-mail addresses ("E-mailadres") used for two different initiatives.
    "shared_form_emails": 1,
    # Distinct municipalities among the valid applications after the edit.
    "municipalities_after_edit": 38,
}
