# Strona rodziców: panel, logowanie i komunikaty.
# Te same identyfikatory co locales/en/dashboard.ftl (sprawdza to tests/it/words.rs).

## Ramka strony i logowanie

dashboard-title = Panel rodzica
dashboard-logged-in = Zalogowano jako { $name }
dashboard-log-out = Wyloguj
dashboard-back = Wróć do panelu
login-heading = Logowanie
login-name = Imię
login-password = Hasło
login-button = Zaloguj
login-too-soon = Za szybko po błędnym haśle. Odczekaj chwilę i spróbuj ponownie.
login-busy = Trwa sprawdzanie haseł. Spróbuj ponownie za moment.
login-wrong = Nieprawidłowe imię lub hasło.

## Odblokuj stronę

dashboard-allow-heading = Odblokuj stronę
dashboard-allow-for = dla
dashboard-allow-1h = na 1 godzinę
dashboard-allow-1day = na jeden dzień
dashboard-allow-always = na stałe
dashboard-allow-bedtime = także w porze snu
dashboard-allow-button = Odblokuj
dashboard-allow-explain = Odblokowanie znosi blokady kategorii profilu dla tej strony i jej subdomen. Pora snu i inne pory, w których otwarte jest tylko to, co dozwolone, nadal obowiązują, chyba że zaznaczysz „{ dashboard-allow-bedtime }”. Listy chroniące przed złośliwym oprogramowaniem i oszustwami działają zawsze.

## Prośby o odblokowanie

dashboard-asked-heading = Prośby o odblokowanie
dashboard-approve-1h = Zezwól na 1 godzinę
dashboard-approve = Zezwól na stałe
dashboard-decline = Odrzuć

## Obowiązujące odblokowania

dashboard-allows-heading = Obowiązujące odblokowania
dashboard-no-allows = Brak odblokowań: każdy profil ma własne zasady.
dashboard-allow-by = źródło: { $who }
dashboard-by-unknown = nieznana osoba
dashboard-by-config = plik konfiguracyjny
dashboard-ends-until = do { $time }{ $bedtime ->
    [yes] , także w porze snu
   *[no] {""}
}
dashboard-ends-always = { $bedtime ->
    [yes] na stałe, także w porze snu
   *[no] na stałe
}
dashboard-ends-config = lista dozwolonych „{ $category }” w pliku konfiguracyjnym { $file }; zmień ją tam
dashboard-main-config = (główna konfiguracja)
dashboard-revoke = Cofnij

## Karta dziecka

dashboard-child-age = { $age ->
    [one] { $age } rok
    [few] { $age } lata
   *[other] { $age } lat
}
dashboard-child-band = grupa wiekowa: { $band }
dashboard-band-waiting = { $name }: { $age }. urodziny { $date }; grupa „{ $band }” obowiązuje, dopóki rodzic nie potwierdzi grupy „{ $next }” (nestguard confirm-band { $id })
dashboard-band-soon = { $name }: urodziny { $date }; wtedy zmiana grupy z „{ $band }” na „{ $next }”, gdy rodzic to potwierdzi
dashboard-confirm-band = Potwierdź nową grupę wiekową
dashboard-paused = Internet wstrzymany do { $time }: dostępne są tylko telefony zaufania i strony pomocy.
dashboard-resume = Wznów teraz
dashboard-pause = Wstrzymaj internet:
dashboard-pause-30m = 30 minut
dashboard-pause-1h = 1 godzina
dashboard-pause-morning = do 7:00
dashboard-sees-detailed = { $age ->
    [none] { $name }:
   *[other] { $name } ({ $age }):
} widzisz odwiedzane i zablokowane strony, bo małe dzieci potrzebują dorosłego, który patrzy razem z nimi.
dashboard-sees-blocked = { $age ->
    [none] { $name }:
   *[other] { $name } ({ $age }):
} widzisz zablokowane strony i kategorie, ale nie odwiedzane strony, bo dorastające dziecko ma prawo do prywatności w tym, co dozwolone.
dashboard-sees-aggregate = { $age ->
    [none] { $name }:
   *[other] { $name } ({ $age }):
} widzisz tylko kategorie i godziny, żadnych stron, bo nadzór maleje wraz z wiekiem dziecka, a { $name } widzi, że filtr jest włączony.
dashboard-other-devices = Inne urządzenia: profil { $profile }
dashboard-lookups = { $n ->
    [one] { $n } zapytanie
    [few] { $n } zapytania
   *[other] { $n } zapytań
}
dashboard-blocked = zablokowane: { $n }
dashboard-online = czas w sieci: { $time }
dashboard-bypass = próby obejścia filtra: { $n }
dashboard-minutes = { $n } min
dashboard-hours = { $h } godz. { $m } min
dashboard-active-by-hour = Aktywne minuty w każdej godzinie (ostatnie 24 godziny)
dashboard-blocked-by-category = Blokady według kategorii
dashboard-nothing-blocked = W tym okresie nic nie zostało zablokowane.
dashboard-devices-gone = Urządzenia, które przestały korzystać z filtra (dzień bez zapytań): { $devices }. Inny serwer DNS, VPN, a może po prostu wyłączone?
dashboard-during = { $n ->
    [one] W czasie „{ $window }”: { $n } zapytanie.
    [few] W czasie „{ $window }”: { $n } zapytania.
   *[other] W czasie „{ $window }”: { $n } zapytań.
}
dashboard-blocked-sites = Zablokowane strony
dashboard-no-activity = W ciągu ostatnich 24 godzin nie zarejestrowano jeszcze aktywności.

## Urządzenia bez przypisanego dziecka

dashboard-unassigned-heading = Nieprzypisane urządzenia
dashboard-unassigned-explain = Urządzenia, które ostatnio wysyłały zapytania i nie należą do żadnego dziecka: obowiązuje je profil domyślny.
dashboard-device-placeholder = tablet
dashboard-device-is = należy do:
dashboard-save = Zapisz
dashboard-mac-unknown = nieznany
dashboard-this-computer = { $address } (ten komputer)

## Ostatnie zmiany

dashboard-recent-heading = Ostatnie zmiany

## Gdy przycisk nie mógł wykonać zadania

dashboard-not-allowed = Nie odblokowano
dashboard-not-revoked = Nie cofnięto
dashboard-not-done = Nie wykonano
dashboard-not-assigned = Nie przypisano
dashboard-no-child = Nie ma takiego dziecka
dashboard-no-child-text = Nie ma dziecka „{ $id }”.
dashboard-security-list = { $name } jest na liście bezpieczeństwa ({ $category }); odblokowanie nie może znieść blokad złośliwego oprogramowania, phishingu i oszustw.

## Services: the panel on each child's card, and the minutes spent

dashboard-services = Serwisy
dashboard-svc-blocked = zablokowany
dashboard-svc-allowed = dozwolony
dashboard-svc-budget = { $n } min dziennie
dashboard-svc-hours = { $from }–{ $to }
dashboard-svc-hours-days = { $from }–{ $to } ({ $days })
dashboard-svc-days-only = cały dzień ({ $days })
dashboard-svc-every-day = codziennie
dashboard-day-mon = pon.
dashboard-day-tue = wt.
dashboard-day-wed = śr.
dashboard-day-thu = czw.
dashboard-day-fri = pt.
dashboard-day-sat = sob.
dashboard-day-sun = niedz.
dashboard-svc-used = dziś { $used } z { $allowed } min
dashboard-svc-more = +30 min
dashboard-svc-as-configured = Jak w konfiguracji
dashboard-svc-service = Serwis
dashboard-svc-rule = Reguła
dashboard-svc-rule-block = zablokuj
dashboard-svc-rule-allow = zezwól
dashboard-svc-rule-hours = godziny dostępu
dashboard-svc-rule-budget = dzienny limit czasu
dashboard-svc-rule-config = jak w konfiguracji
dashboard-svc-from = Od
dashboard-svc-to = Do
dashboard-svc-days = Dni
dashboard-svc-school = dni szkolne
dashboard-svc-weekend = weekendy
dashboard-svc-minutes = Minuty
dashboard-svc-min-a-day = min dziennie
dashboard-svc-set = Ustaw
dashboard-svc-explain = Reguła ustawiona tutaj zastępuje regułę z konfiguracji dla tego dziecka i tego serwisu; „{ dashboard-svc-rule-config }” przywraca konfigurację.
dashboard-minutes-groups = Minuty dziś według rodzaju serwisu
dashboard-minutes-services = Minuty dziś według serwisu
dashboard-minutes-explain = Minuta liczy się, gdy w jej trakcie sprawdzano nazwy serwisu (przerwy do 3 minut też się liczą), tak samo jak w dziennych limitach.
dashboard-group-video = Wideo
dashboard-group-short-video = Krótkie wideo
dashboard-group-social = Media społecznościowe
dashboard-group-chat = Czat
dashboard-group-games = Gry
dashboard-group-ai-chatbots = Czatboty AI
dashboard-group-dating = Randki
dashboard-group-shopping = Zakupy
dashboard-group-streaming = Streaming
dashboard-group-music = Muzyka
dashboard-group-gambling = Hazard
dashboard-group-forums = Fora
dashboard-group-other = Inne
