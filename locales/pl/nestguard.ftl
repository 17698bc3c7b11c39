# Polski. Te same identyfikatory co w locales/en/nestguard.ftl (wzorzec).

## Strona „Dlaczego to jest zablokowane?”

page-blocked-title = Dlaczego to jest zablokowane?
page-blocked-no-site = Zablokowana strona
page-not-blocked = Ta strona nie jest teraz dla ciebie zablokowana. Jeśli się nie otwiera, poczekaj chwilę i spróbuj jeszcze raz.
page-no-name = Niektóre strony są zablokowane przez filtr twojej rodziny.
ask-heading = { $age ->
    [young] Myślisz, że powinna być otwarta?
   *[older] Poproś o odblokowanie
}
ask-note = Do czego jej potrzebujesz? (nieobowiązkowe)
ask-button = Poproś
help-heading = Potrzebujesz pomocy albo coś w internecie cię martwi?
help-talk = Porozmawiaj z kimś:
help-free = To nic nie kosztuje i nie musisz podawać swojego imienia.
help-sic = Porady, jak być bezpiecznym w internecie:
help-report = Widzisz coś, czego nie powinno być w internecie, na przykład zdjęcia krzywdzonych dzieci? Zgłoś to:
help-world = Pomoc w innych krajach:
link-me = Co filtr robi dla mnie?

## Po wysłaniu prośby

asked-title = Wysłano
asked-thanks = Dziękujemy. Twoi rodzice zobaczą twoje pytanie.
asked-again = Twoi rodzice mają już to pytanie. Zobaczą je.
asked-not = Nie wysłano
asked-full-you = Masz już pięć pytań, które czekają. Rodzice najpierw na nie odpowiedzą.
asked-full = Czeka już wiele pytań; zapytaj rodziców bezpośrednio.
asked-expired = Ten formularz wygasł; otwórz stronę jeszcze raz.
asked-security = Nikt nie może odblokować tej strony, bo jest niebezpieczna dla wszystkich.
asked-failed = Nie udało się teraz zapisać twojego pytania; zapytaj rodziców bezpośrednio.

## Co się stało

block-title-category = { $age ->
    [young] Ta strona nie jest dla ciebie otwarta
   *[older] Ta strona jest dla ciebie zablokowana
}
block-title-security = Ta strona jest niebezpieczna
block-title-bedtime = Czas spać
block-title-schedule = Godziny ciszy: { $window }
block-title-paused = Internet jest wstrzymany
block-title-exam = Czas egzaminu
block-title-service-blocked = { $name } jest wyłączony
block-title-service-hours = { $name } jest teraz zamknięty
block-title-budget = Twój czas na { $name } się skończył

## Dlaczego: dla każdej kategorii, dla młodszych i starszych

cat-scams-malware = { $age ->
    [young] Ta strona próbuje oszukiwać ludzi albo psuć komputery. Jest zablokowana dla wszystkich w twoim domu, także dla dorosłych.
   *[older] Ta strona jest znana z oszustw, wyłudzeń albo złośliwego oprogramowania. Jest zablokowana dla wszystkich w tej sieci, także dla dorosłych, bo może ukraść hasła lub pieniądze albo uszkodzić twoje urządzenie.
}
cat-bypass = { $age ->
    [young] Ta strona może wyłączyć filtr, który chroni cię w internecie.
   *[older] To jest VPN, proxy albo usługa szyfrowanego DNS. Wyłączyłaby filtr rodzinny, dlatego jest zablokowana.
}
cat-adult = { $age ->
    [young] Ta strona pokazuje rzeczy, które są tylko dla dorosłych.
   *[older] Ta strona ma pornografię albo inne treści seksualne dla dorosłych. Strony o zdrowiu seksualnym i związkach pozostają dla ciebie otwarte.
}
cat-gambling = { $age ->
    [young] Na tej stronie gra się o pieniądze i można ich dużo stracić.
   *[older] To jest strona hazardowa. Zakłady są tylko dla dorosłych, a takie strony są zrobione tak, żeby grać dalej i tracić pieniądze.
}
cat-violence = { $age ->
    [young] Ta strona pokazuje, jak ludzie są krzywdzeni. Takie obrazy mogą przestraszyć i zostać w głowie.
   *[older] Ta strona pokazuje prawdziwą przemoc albo drastyczne obrazy. Takie obrazy mogą zostać z tobą na długo.
}
cat-self-harm = { $age ->
    [young] Ta strona jest o ludziach, którzy robią sobie krzywdę. Jeśli jest ci smutno albo się martwisz, możesz z kimś porozmawiać: zobacz niżej.
   *[older] Ta strona może popychać do samookaleczenia albo samobójstwa. Jeśli jest ci ciężko, nie jesteś sam: telefony zaufania niżej są bezpłatne i poufne, a strony wsparcia pozostają dla ciebie otwarte.
}
cat-drugs = { $age ->
    [young] Ta strona jest o narkotykach, alkoholu albo papierosach, które szkodzą ciału dzieci.
   *[older] Ta strona sprzedaje albo reklamuje narkotyki, alkohol lub tytoń. Strony z rzetelnymi informacjami o zdrowiu pozostają dla ciebie otwarte.
}
cat-dating = { $age ->
    [young] Ta strona jest dla dorosłych, którzy chcą poznawać obcych.
   *[older] To jest aplikacja albo strona randkowa. Są dla dorosłych, a ludzie tam nie zawsze są tymi, za kogo się podają.
}
cat-anonymous-chat = { $age ->
    [young] Na tej stronie czatuje się z obcymi i nie wiesz, kim naprawdę są.
   *[older] To jest anonimowy czat z obcymi. Ludzie mogą tam udawać kogoś innego, a niektórzy wywierają presję na młodych.
}
cat-short-video = { $age ->
    [young] Ta aplikacja pokazuje bez końca krótkie filmy. Jest zrobiona tak, żeby oglądać bardzo długo.
   *[older] To jest aplikacja z krótkimi filmami. Jej niekończący się feed jest zrobiony tak, żebyś dalej przewijał.
}
cat-social-media = { $age ->
    [young] To jest serwis społecznościowy. Takie serwisy są dla starszych dzieci i dorosłych.
   *[older] To jest serwis społecznościowy. Twoja rodzina zdecydowała, że media społecznościowe są na razie wyłączone.
}
cat-gaming = { $age ->
    [young] To jest gra w internecie. Twoja rodzina wybiera, które gry są dla ciebie.
   *[older] To jest gra albo platforma z grami. Twoja rodzina zdecydowała, że jest na razie wyłączona.
}
cat-unsafe-search = { $age ->
    [young] Ta wyszukiwarka nie ukrywa obrazków i stron, które nie są dla dzieci.
   *[older] Ta wyszukiwarka nie umie ukryć wyników dla dorosłych, dlatego jest zablokowana. Wyszukiwarka z włączonym SafeSearch działa.
}
cat-piracy = { $age ->
    [young] Ta strona udostępnia filmy, muzykę albo gry, nie płacąc ludziom, którzy je zrobili. Na takich stronach często ukrywają się pułapki i wirusy.
   *[older] Ta strona udostępnia filmy, muzykę, gry albo programy bez zgody. Takie strony są często pełne złośliwego oprogramowania i oszukańczych reklam.
}
cat-fake-news = { $age ->
    [young] Ta strona często mówi rzeczy, które nie są prawdą.
   *[older] Ta strona jest znana z rozpowszechniania fałszywych albo wprowadzających w błąd wiadomości.
}
cat-trackers = { $age ->
    [young] To jest ukryty pomocnik, który patrzy, co ludzie robią w internecie. Strona, której chciałeś, zwykle i tak działa.
   *[older] To jest tracker, który zapisuje, co robisz w internecie, dla reklam. Strona, którą odwiedziłeś, zwykle działa bez niego.
}
cat-other = { $age ->
    [young] Ta strona jest w grupie „{ $name }”, którą twoja rodzina zablokowała.
   *[older] Ta strona jest w kategorii „{ $name }”, którą blokuje twoja rodzina.
}

## Dlaczego, gdy nie chodzi o samą stronę

why-bedtime = { $age ->
    [young] W porze snu otwartych jest tylko kilka stron, żebyś mógł odpocząć.
   *[older] W porze snu otwarte są tylko strony, na które twoja rodzina zawsze pozwala.
}
why-schedule = { $age ->
    [young] Teraz otwartych jest tylko kilka stron.
   *[older] Twoja rodzina ustawiła te godziny, żeby otwartych było tylko kilka stron.
}
why-paused = { $age ->
    [young] Dorosły wstrzymał dla ciebie internet na chwilę.
   *[older] Twoi rodzice wstrzymali dla ciebie internet na razie.
}
why-exam = { $age ->
    [young] Jest czas egzaminu, więc otwarte są tylko strony do egzaminu.
   *[older] Tryb egzaminu jest włączony: otwarte są tylko strony potrzebne do egzaminu.
}
why-service-blocked = { $age ->
    [young] Dorosły wyłączył dla ciebie { $name }.
   *[older] Twoi rodzice wyłączyli dla ciebie { $name }.
}
why-service-hours = { $age ->
    [young] { $name } jest otwarty tylko o niektórych porach dnia, a teraz nie jest jedna z nich.
   *[older] { $name } jest otwarty tylko w godzinach ustawionych przez twoją rodzinę.
}
why-budget = { $age ->
    [young] Wykorzystałeś już dziś cały swój czas na { $name }.
   *[older] Twój dzisiejszy czas na { $name } się skończył.
}

## Co możesz zrobić

can-category = { $kind ->
    [harm] { $band ->
        [young-child] Zamknij tę stronę i wróć. Jeśli coś cię przestraszyło, powiedz o tym dorosłemu, któremu ufasz.
        [child] Wróć do tego, co robiłeś. Jeśli coś w internecie cię przestraszyło albo zasmuciło, powiedz o tym dorosłemu, któremu ufasz.
        [teen] Jeśli jest zablokowana przez pomyłkę, na przykład strona o zdrowiu albo do szkoły, poproś niżej; decydują twoi rodzice.
       *[older-teen] Jeśli jest zablokowana przez pomyłkę, napisz niżej dlaczego; rodzice zobaczą twoją notatkę i zdecydują.
    }
   *[choice] { $band ->
        [young-child] Jeśli potrzebujesz jej do szkoły albo do czegoś ważnego, poproś dorosłego, żeby obejrzał ją razem z tobą.
        [child] Jeśli myślisz, że jest w porządku, możesz poprosić rodziców o odblokowanie.
        [teen] Jeśli jej potrzebujesz, poproś niżej i napisz dlaczego; decydują twoi rodzice.
       *[older-teen] Jeśli jej potrzebujesz, poproś niżej i napisz dlaczego; rodzice zobaczą twoją notatkę i zdecydują.
    }
}
can-security = { $age ->
    [young] Nikt nie może jej odblokować, bo jest niebezpieczna. Jeśli wiadomość albo gra cię tu przysłała, powiedz o tym dorosłemu, któremu ufasz.
   *[older] Nikt nie może jej odblokować, nawet twoi rodzice. Jeśli wiadomość, reklama albo link cię tu przysłały, nie wpisuj tam żadnego hasła, a jeśli już to zrobiłeś, powiedz komuś, komu ufasz.
}
can-bedtime = { $age ->
    [young] Spróbuj jutro. Śpij dobrze!
   *[older] Otworzy się, gdy skończy się pora snu. Jeśli czegoś teraz potrzebujesz, zapytaj rodziców.
}
can-schedule = Otworzy się, gdy skończy się „{ $window }”.
can-paused = { $age ->
    [young] Niedługo wróci. Może to czas na coś innego!
   *[older] Wróci, gdy skończy się przerwa. Jeśli czegoś teraz potrzebujesz, zapytaj rodziców.
}
can-exam = Po egzaminie wszystko znowu się otworzy. Jeśli potrzebujesz strony do egzaminu, zapytaj nauczyciela albo rodziców.
can-service-blocked = Jeśli myślisz, że tego potrzebujesz, zapytaj rodziców.
can-service-hours = Spróbuj ponownie, gdy będzie otwarte.
can-budget = { $age ->
    [young] Jutro dostaniesz nowy czas. Może teraz zrobisz coś innego!
   *[older] Twój czas zacznie się od nowa jutro. Jeśli dziś potrzebujesz więcej, zapytaj rodziców.
}

## Strona „Filtr jest dla ciebie włączony”

me-title = Filtr jest dla ciebie włączony
me-hello = Cześć, { $name }!
me-on = { $age ->
    [young] Twoja rodzina używa filtra, który trzyma niektóre strony z daleka, żebyś był bezpieczny w internecie.
   *[older] Twoja rodzina używa nestguard, filtra w tej sieci. Trzyma niektóre rodzaje stron z dala od twoich urządzeń i nie widzi nic więcej poza tym, jakie rodzaje zostały zablokowane.
}
me-kept-heading = Co jest trzymane z daleka i dlaczego
me-kept-none = Dla ciebie z daleka trzymane są tylko niebezpieczne strony, na przykład oszustwa.
me-bedtime-heading = Pora snu i godziny ciszy
me-bedtime-line = { $window }: od { $from } do { $to }
me-bedtime-none = Nie masz ustawionej pory snu ani godzin ciszy.
me-budget-heading = Czas, który został na dziś
me-budget-line = { $service }: zostało { $left } z { $allowed } minut
me-budget-soon = Zostało tylko kilka minut: dokończ to, co robisz.
me-ask-heading = Jeśli strona, której potrzebujesz, jest zablokowana
me-ask = Gdy strona jest zablokowana, jej strona informacyjna mówi dlaczego. Tam możesz poprosić rodziców o odblokowanie i napisać, do czego jej potrzebujesz.
me-help-always = Telefony zaufania i strony wsparcia nigdy nie są blokowane.

## Powiadomienie na pulpicie

notice-link = Dlaczego? Poproś o odblokowanie

## Zamienniki brakującej nazwy

this-service = ta usługa
quiet-hours = godziny ciszy

## Nazwy kategorii, tak jak widzi je dziecko

catname-scams-malware = Oszustwa i złośliwe oprogramowanie
catname-bypass = Omijanie filtra
catname-adult = Treści seksualne
catname-gambling = Hazard
catname-violence = Przemoc
catname-self-harm = Samookaleczenia i samobójstwa
catname-drugs = Narkotyki, alkohol i tytoń
catname-dating = Aplikacje randkowe
catname-anonymous-chat = Anonimowy czat
catname-short-video = Krótkie filmy
catname-social-media = Media społecznościowe
catname-gaming = Gry online
catname-unsafe-search = Wyszukiwanie bez SafeSearch
catname-piracy = Piractwo
catname-fake-news = Dezinformacja
catname-trackers = Trackery
