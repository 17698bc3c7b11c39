# Nederlands. Dezelfde id's als locales/en/nestguard.ftl (de referentie).

## De pagina 'Waarom is dit geblokkeerd?'

page-blocked-title = Waarom is dit geblokkeerd?
page-blocked-no-site = Een geblokkeerde site
page-not-blocked = Deze site is nu niet voor je geblokkeerd. Als hij niet opent, wacht even en probeer het opnieuw.
page-no-name = Sommige sites worden door het filter van je gezin geblokkeerd.
ask-heading = { $age ->
    [young] Vind je dat hij open moet zijn?
   *[older] Vraag om deblokkering
}
ask-note = Waarvoor heb je hem nodig? (niet verplicht)
ask-button = Vragen
help-heading = Heb je hulp nodig of maak je je zorgen over iets online?
help-talk = Praat met iemand:
help-free = Het is gratis en je hoeft je naam niet te zeggen.
help-sic = Tips en advies om veilig online te zijn:
help-report = Iets gezien dat niet online hoort, zoals beelden van kinderen die pijn wordt gedaan? Meld het:
help-world = Hulp in andere landen:
link-me = Wat doet het filter voor mij?

## Na het vragen

asked-title = Gevraagd
asked-thanks = Bedankt. Je ouders zien je vraag.
asked-again = Je ouders hebben deze vraag al. Ze zullen hem zien.
asked-not = Niet gevraagd
asked-full-you = Je hebt al vijf vragen openstaan. Je ouders beantwoorden die eerst.
asked-full = Er staan al veel vragen open; vraag het je ouders zelf.
asked-expired = Dit formulier is verlopen; open de pagina opnieuw.
asked-security = Niemand kan deze site deblokkeren, omdat hij voor iedereen gevaarlijk is.
asked-failed = Je vraag kon nu niet worden bewaard; vraag het je ouders zelf.

## Wat er gebeurde

block-title-category = { $age ->
    [young] Deze website is niet open voor jou
   *[older] Deze site is voor jou geblokkeerd
}
block-title-security = Deze site is gevaarlijk
block-title-bedtime = Het is bedtijd
block-title-schedule = Rustige uren: { $window }
block-title-paused = Het internet staat op pauze
block-title-exam = Examentijd
block-title-service-blocked = { $name } staat uit
block-title-service-hours = { $name } is nu dicht
block-title-budget = Je tijd voor { $name } is op

## Waarom: per categorie, voor jongere en oudere kinderen

cat-scams-malware = { $age ->
    [young] Deze website probeert mensen te bedriegen of computers kapot te maken. Hij is voor iedereen bij jou thuis geblokkeerd, ook voor volwassenen.
   *[older] Deze site staat bekend om oplichting, fraude of malware. Hij is voor iedereen op dit netwerk geblokkeerd, ook voor volwassenen, omdat hij wachtwoorden of geld kan stelen of je apparaat kan beschadigen.
}
cat-bypass = { $age ->
    [young] Deze website kan het filter uitzetten dat je online beschermt.
   *[older] Dit is een VPN, een proxy of een versleutelde DNS-dienst. Die zou het gezinsfilter uitzetten, daarom is hij geblokkeerd.
}
cat-adult = { $age ->
    [young] Deze website laat dingen zien die alleen voor volwassenen zijn.
   *[older] Deze site heeft porno of andere seksuele inhoud voor volwassenen. Sites over seksuele gezondheid en relaties blijven voor jou open.
}
cat-gambling = { $age ->
    [young] Op deze website speel je om geld, en je kunt er veel van verliezen.
   *[older] Dit is een goksite. Gokken is alleen voor volwassenen, en zulke sites zijn gemaakt om je te laten doorspelen en geld te laten verliezen.
}
cat-violence = { $age ->
    [young] Deze website laat zien hoe mensen pijn wordt gedaan. Zulke beelden kunnen eng zijn en in je hoofd blijven.
   *[older] Deze site laat echt geweld of bloederige beelden zien. Zulke beelden kunnen je lang bijblijven.
}
cat-self-harm = { $age ->
    [young] Deze website gaat over mensen die zichzelf pijn doen. Als je verdrietig bent of je zorgen maakt, kun je met iemand praten: kijk hieronder.
   *[older] Deze site kan mensen naar zelfbeschadiging of zelfdoding duwen. Als het niet goed met je gaat, ben je niet alleen: de hulplijnen hieronder zijn gratis en vertrouwelijk, en hulpsites blijven voor jou open.
}
cat-drugs = { $age ->
    [young] Deze website gaat over drugs, alcohol of roken, die slecht zijn voor het lichaam van kinderen.
   *[older] Deze site verkoopt of promoot drugs, alcohol of tabak. Sites met eerlijke informatie over gezondheid blijven voor jou open.
}
cat-dating = { $age ->
    [young] Deze website is voor volwassenen die vreemden willen ontmoeten.
   *[older] Dit is een datingapp of -site. Die zijn voor volwassenen gemaakt, en mensen daar zijn niet altijd wie ze zeggen dat ze zijn.
}
cat-anonymous-chat = { $age ->
    [young] Op deze website chat je met vreemden, en je kunt niet weten wie ze echt zijn.
   *[older] Dit is een anonieme chat met vreemden. Mensen daar kunnen zich voordoen als iemand anders, en sommigen zetten jongeren onder druk.
}
cat-short-video = { $age ->
    [young] Deze app laat eindeloos korte filmpjes zien. Hij is gemaakt om je heel lang te laten kijken.
   *[older] Dit is een app met korte video's. De eindeloze feed is gemaakt om je te laten doorscrollen.
}
cat-social-media = { $age ->
    [young] Dit is een sociaal netwerk. Sociale netwerken zijn gemaakt voor oudere kinderen en volwassenen.
   *[older] Dit is een sociaal netwerk. Je gezin heeft gekozen om sociale media voorlopig uit te laten.
}
cat-gaming = { $age ->
    [young] Dit is een online spel. Je gezin kiest welke spellen bij jou passen.
   *[older] Dit is een online spel of gameplatform. Je gezin heeft gekozen om het voorlopig uit te laten.
}
cat-unsafe-search = { $age ->
    [young] Deze zoekmachine verbergt geen plaatjes en pagina's die niet voor kinderen zijn.
   *[older] Deze zoekmachine kan expliciete resultaten niet verbergen, daarom is hij geblokkeerd. Een zoekmachine met SafeSearch werkt wel.
}
cat-piracy = { $age ->
    [young] Deze website deelt films, muziek of spellen zonder de makers te betalen. Op zulke sites zitten vaak trucs en virussen.
   *[older] Deze site deelt films, muziek, games of software zonder toestemming. Zulke sites zitten vaak vol malware en nepadvertenties.
}
cat-fake-news = { $age ->
    [young] Deze website vertelt vaak dingen die niet waar zijn.
   *[older] Deze site staat bekend om het verspreiden van vals of misleidend nieuws.
}
cat-trackers = { $age ->
    [young] Dit is een verborgen helper die kijkt wat mensen online doen. De pagina die je wilde werkt meestal toch.
   *[older] Dit is een tracker die voor reclame bijhoudt wat je online doet. De pagina die je bezocht werkt meestal ook zonder.
}
cat-other = { $age ->
    [young] Deze website hoort bij de groep '{ $name }', die je gezin heeft gekozen te blokkeren.
   *[older] Deze site hoort bij de categorie '{ $name }', die je gezin blokkeert.
}

## Waarom, als het niet aan de site ligt

why-bedtime = { $age ->
    [young] Tijdens bedtijd zijn maar een paar websites open, zodat je kunt uitrusten.
   *[older] Tijdens bedtijd zijn alleen de sites open die je gezin altijd toestaat.
}
why-schedule = { $age ->
    [young] Op dit moment zijn maar een paar websites open.
   *[older] Je gezin heeft deze uren ingesteld zodat er maar een paar sites open zijn.
}
why-paused = { $age ->
    [young] Een volwassene heeft het internet even voor je op pauze gezet.
   *[older] Je ouders hebben het internet voorlopig voor je op pauze gezet.
}
why-exam = { $age ->
    [young] Het is examentijd, dus alleen de websites voor het examen zijn open.
   *[older] De examenmodus staat aan: alleen de sites die nodig zijn voor het examen zijn open.
}
why-service-blocked = { $age ->
    [young] Een volwassene heeft { $name } voor je uitgezet.
   *[older] Je ouders hebben { $name } voor je uitgezet.
}
why-service-hours = { $age ->
    [young] { $name } is maar op sommige tijden van de dag open, en nu is daar geen van.
   *[older] { $name } is alleen open op de tijden die je gezin heeft ingesteld.
}
why-budget = { $age ->
    [young] Je hebt vandaag al je tijd voor { $name } gebruikt.
   *[older] Je tijd voor { $name } is voor vandaag op.
}

## Wat je kunt doen

can-category = { $kind ->
    [harm] { $band ->
        [young-child] Sluit deze pagina en ga terug. Als iets je bang heeft gemaakt, vertel het aan een volwassene die je vertrouwt.
        [child] Ga terug naar wat je aan het doen was. Als iets online je bang of verdrietig heeft gemaakt, vertel het aan een volwassene die je vertrouwt.
        [teen] Als hij per ongeluk is geblokkeerd, bijvoorbeeld een pagina over gezondheid of school, vraag het hieronder; je ouders beslissen.
       *[older-teen] Als hij per ongeluk is geblokkeerd, schrijf hieronder waarom; je ouders zien je bericht en beslissen.
    }
   *[choice] { $band ->
        [young-child] Als je hem nodig hebt voor school of iets belangrijks, vraag een volwassene om er samen met jou naar te kijken.
        [child] Als je denkt dat hij in orde is, vraag dan je ouders om hem te deblokkeren.
        [teen] Als je hem nodig hebt, vraag het hieronder en zeg waarom; je ouders beslissen.
       *[older-teen] Als je hem nodig hebt, vraag het hieronder en zeg waarom; je ouders zien je bericht en beslissen.
    }
}
can-security = { $age ->
    [young] Niemand kan hem deblokkeren, omdat hij gevaarlijk is. Als een bericht of een spel je hierheen stuurde, vertel het aan een volwassene die je vertrouwt.
   *[older] Niemand kan hem deblokkeren, ook je ouders niet. Als een bericht, advertentie of link je hierheen stuurde, typ daar geen wachtwoord in, en vertel het aan iemand die je vertrouwt als je dat al deed.
}
can-bedtime = { $age ->
    [young] Probeer het morgen weer. Slaap lekker!
   *[older] Hij gaat weer open als bedtijd voorbij is. Heb je nu iets nodig, vraag het je ouders.
}
can-schedule = Hij gaat weer open als '{ $window }' voorbij is.
can-paused = { $age ->
    [young] Het komt snel terug. Misschien is het tijd voor iets anders!
   *[older] Het komt terug als de pauze voorbij is. Heb je nu iets nodig, vraag het je ouders.
}
can-exam = Na het examen gaat alles weer open. Heb je een site nodig voor het examen, vraag het je leraar of je ouders.
can-service-blocked = Als je denkt dat je het nodig hebt, vraag het je ouders.
can-service-hours = Probeer het opnieuw als het open is.
can-budget = { $age ->
    [young] Morgen krijg je nieuwe tijd. Misschien kun je nu iets anders doen!
   *[older] Je tijd begint morgen opnieuw. Heb je vandaag meer nodig, vraag het je ouders.
}

## De pagina 'Het filter staat aan voor jou'

me-title = Het filter staat aan voor jou
me-hello = Hallo, { $name }!
me-on = { $age ->
    [young] Je gezin gebruikt een filter dat sommige websites weghoudt, zodat je veilig online bent.
   *[older] Je gezin gebruikt nestguard, een filter op dit netwerk. Het houdt sommige soorten sites weg van je apparaten en ziet niet meer dan welke soorten zijn geblokkeerd.
}
me-kept-heading = Wat wordt weggehouden, en waarom
me-kept-none = Voor jou worden alleen gevaarlijke sites, zoals oplichting, weggehouden.
me-bedtime-heading = Bedtijd en rustige uren
me-bedtime-line = { $window }: van { $from } tot { $to }
me-bedtime-none = Er is geen bedtijd en geen rustige uren voor je ingesteld.
me-budget-heading = Tijd over vandaag
me-budget-line = { $service }: nog { $left } van { $allowed } minuten
me-budget-soon = Nog maar een paar minuten: maak af waar je mee bezig bent.
me-ask-heading = Als een site die je nodig hebt geblokkeerd is
me-ask = Als een site geblokkeerd is, staat op de pagina waarom. Daar kun je je ouders vragen om hem te deblokkeren en zeggen waarvoor je hem nodig hebt.
me-help-always = Hulplijnen en hulpsites worden nooit geblokkeerd.

## De melding op het bureaublad

notice-link = Waarom? Vraag om deblokkering

## Vervangers voor een ontbrekende naam

this-service = deze dienst
quiet-hours = rustige uren

## Namen van de categorieën, zoals een kind ze ziet

catname-scams-malware = Oplichting en malware
catname-bypass = Het filter omzeilen
catname-adult = Seksuele inhoud
catname-gambling = Gokken
catname-violence = Geweld
catname-self-harm = Zelfbeschadiging en zelfdoding
catname-drugs = Drugs, alcohol en tabak
catname-dating = Datingapps
catname-anonymous-chat = Anonieme chat
catname-short-video = Korte video's
catname-social-media = Sociale media
catname-gaming = Online games
catname-unsafe-search = Zoeken zonder SafeSearch
catname-piracy = Piraterij
catname-fake-news = Desinformatie
catname-trackers = Trackers
