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
