# The parents' side: the dashboard, its login page and its messages.
# English is the reference: every other language has exactly these ids
# (tests/it/words.rs checks). Numbers ($n, $age, $h) are numbers, so
# plural forms can be chosen; $time is a local date and time.

## Page frame and login

dashboard-title = Parents' dashboard
dashboard-logged-in = Logged in as { $name }
dashboard-log-out = Log out
dashboard-back = Back to the dashboard
login-heading = Log in
login-name = Name
login-password = Password
login-button = Log in
login-too-soon = Too soon after a wrong password. Wait a second and try again.
login-busy = Busy checking passwords. Try again in a moment.
login-wrong = Wrong name or password.

## Allow a site

dashboard-allow-heading = Allow a site
dashboard-allow-for = for
dashboard-allow-1h = for 1 hour
dashboard-allow-1day = for a day
dashboard-allow-always = always
dashboard-allow-bedtime = also during bedtime
dashboard-allow-button = Allow
dashboard-allow-explain = Allowing lifts the profile's category blocks for the site and its subdomains. Bedtime and other allow-only times stay in force unless you tick “{ dashboard-allow-bedtime }”. Malware and scam lists always stay on.

## Asked to unblock

dashboard-asked-heading = Asked to unblock
dashboard-approve-1h = Allow 1 hour
dashboard-approve = Allow always
dashboard-decline = Decline

## Allows in force

dashboard-allows-heading = Allows in force
dashboard-no-allows = No allows: every profile gets its own rules.
dashboard-allow-by = by { $who }
dashboard-by-unknown = someone unknown
dashboard-by-config = the config file
dashboard-ends-until = until { $time }{ $bedtime ->
    [yes] , also at bedtime
   *[no] {""}
}
dashboard-ends-always = { $bedtime ->
    [yes] always, also at bedtime
   *[no] always
}
dashboard-ends-config = allow list for “{ $category }” in the config file { $file }; change it there
dashboard-main-config = (the main config)
dashboard-revoke = Revoke

## A child's card

dashboard-child-age = { $age ->
    [one] { $age } year
   *[other] { $age } years
}
dashboard-child-band = band { $band }
dashboard-band-waiting = { $name } turned { $age } on { $date }: still on “{ $band }” until a parent confirms “{ $next }” (nestguard confirm-band { $id })
dashboard-band-soon = { $name } has a birthday on { $date }: moves from “{ $band }” to “{ $next }” then, once a parent confirms
dashboard-confirm-band = Confirm the new band
dashboard-paused = Internet paused until { $time }: only help lines are reachable.
dashboard-resume = Resume now
dashboard-pause = Pause the internet:
dashboard-pause-30m = 30 minutes
dashboard-pause-1h = 1 hour
dashboard-pause-morning = until 7:00
dashboard-sees-detailed = { $age ->
    [none] For { $name }
   *[other] For { $name } at { $age }
} you see the sites visited and the sites blocked: young children need a grown-up looking with them.
dashboard-sees-blocked = { $age ->
    [none] For { $name }
   *[other] For { $name } at { $age }
} you see blocked sites and categories, not the sites visited: a growing child gets privacy for what is allowed.
dashboard-sees-aggregate = { $age ->
    [none] For { $name }
   *[other] For { $name } at { $age }
} you see categories and times only, no sites: monitoring narrows as children grow, and { $name } can see that filtering is on.
dashboard-other-devices = Other devices: profile { $profile }
dashboard-lookups = { $n ->
    [one] { $n } lookup
   *[other] { $n } lookups
}
dashboard-blocked = { $n } blocked
dashboard-online = time online { $time }
dashboard-bypass = bypass attempts: { $n }
dashboard-minutes = { $n } min
dashboard-hours = { $h } h { $m } min
dashboard-active-by-hour = Active minutes by hour (last 24 hours)
dashboard-blocked-by-category = Blocked by category
dashboard-nothing-blocked = Nothing blocked in this period.
dashboard-devices-gone = Devices that stopped using the filter (a day without a lookup): { $devices }. Another resolver, a VPN, or just switched off?
dashboard-during = { $n ->
    [one] During “{ $window }”: { $n } lookup.
   *[other] During “{ $window }”: { $n } lookups.
}
dashboard-blocked-sites = Blocked sites
dashboard-no-activity = No activity recorded in the last 24 hours yet.

## Devices no child has

dashboard-unassigned-heading = Unassigned devices
dashboard-unassigned-explain = Devices that asked lately and belong to no child: they get the default profile.
dashboard-device-placeholder = tablet
dashboard-device-is = belongs to
dashboard-save = Save
dashboard-mac-unknown = unknown
dashboard-this-computer = { $address } (this computer)

## Recent changes

dashboard-recent-heading = Recent changes

## When a button could not do its work

dashboard-not-allowed = Not allowed
dashboard-not-revoked = Not revoked
dashboard-not-done = Not done
dashboard-not-assigned = Not assigned
dashboard-no-child = No such child
dashboard-no-child-text = There is no child “{ $id }”.
dashboard-security-list = { $name } is on a security list ({ $category }); an allow cannot lift malware, phishing and scam blocks.

## Services: the panel on each child's card, and the minutes spent

dashboard-services = Services
dashboard-svc-blocked = blocked
dashboard-svc-allowed = allowed
dashboard-svc-budget = { $n } min a day
dashboard-svc-hours = { $from }–{ $to }
dashboard-svc-hours-days = { $from }–{ $to } ({ $days })
dashboard-svc-days-only = all day ({ $days })
dashboard-svc-every-day = every day
dashboard-day-mon = Mon
dashboard-day-tue = Tue
dashboard-day-wed = Wed
dashboard-day-thu = Thu
dashboard-day-fri = Fri
dashboard-day-sat = Sat
dashboard-day-sun = Sun
dashboard-svc-used = { $used } of { $allowed } min today
dashboard-svc-more = +30 min
dashboard-svc-as-configured = As configured
dashboard-svc-service = Service
dashboard-svc-rule = Rule
dashboard-svc-rule-block = block
dashboard-svc-rule-allow = allow
dashboard-svc-rule-hours = open hours
dashboard-svc-rule-budget = daily budget
dashboard-svc-rule-config = as configured
dashboard-svc-from = From
dashboard-svc-to = To
dashboard-svc-days = Days
dashboard-svc-school = school days
dashboard-svc-weekend = weekends
dashboard-svc-minutes = Minutes
dashboard-svc-min-a-day = min a day
dashboard-svc-set = Set
dashboard-svc-explain = A rule set here takes the place of the config’s for this child and service; “{ dashboard-svc-rule-config }” goes back to the config.
dashboard-minutes-groups = Minutes today by service group
dashboard-minutes-services = Minutes today by service
dashboard-minutes-explain = A minute counts when the service’s names were looked up in it (gaps of up to 3 minutes count too), as daily budgets count.
dashboard-group-video = Video
dashboard-group-short-video = Short video
dashboard-group-social = Social
dashboard-group-chat = Chat
dashboard-group-games = Games
dashboard-group-ai-chatbots = AI chatbots
dashboard-group-dating = Dating
dashboard-group-shopping = Shopping
dashboard-group-streaming = Streaming
dashboard-group-music = Music
dashboard-group-gambling = Gambling
dashboard-group-forums = Forums
dashboard-group-other = Other
