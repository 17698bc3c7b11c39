# What a child sees: the "why was this blocked?" page, the "filtering is on
# for you" page and the desktop notice. English is the reference: every
# other language has exactly these ids (tests/it/words.rs checks).
#
# Variables: $band (young-child, child, teen, older-teen); $age (young for
# young-child and child, older for teen and older-teen); $kind (harm: not
# for children at all; choice: a family's choice); $name (a category's or
# service's name, or the child's); $window (a schedule's name).

## The "why was this blocked?" page

page-blocked-title = Why was this blocked?
page-blocked-no-site = A blocked site
page-not-blocked = This site is not blocked for you now. If it does not open, wait a moment and try again.
page-no-name = Some sites are blocked by your family's filter.
ask-heading = { $age ->
    [young] Think it should be open?
   *[older] Ask to unblock it
}
ask-note = Why do you need it? (optional)
ask-button = Ask
help-heading = Need help or feel worried about something online?
help-talk = Talk to someone:
help-free = It is free and you do not have to give your name.
help-sic = Tips and advice about staying safe online:
help-report = Saw something that should not be online, like pictures of children being hurt? Report it:
help-world = Help in other countries:
link-me = What does the filter do for me?

## After asking

asked-title = Asked
asked-thanks = Thank you. Your parents will see your question.
asked-again = Your parents already have this question. They will see it.
asked-not = Not asked
asked-full-you = You already have five questions waiting. Your parents will answer those first.
asked-full = There are many questions waiting already; ask your parents.
asked-expired = This form has expired; open the page again.
asked-security = Nobody can unblock this site, because it is dangerous for everyone.
asked-failed = Your question could not be saved now; ask your parents.

## What happened (the title of the page and of the notice)

block-title-category = { $age ->
    [young] This website is not open for you
   *[older] This site is blocked for you
}
block-title-security = This site is dangerous
block-title-bedtime = It is bedtime
block-title-schedule = Quiet hours: { $window }
block-title-paused = The internet is paused
block-title-exam = Exam time
block-title-service-blocked = { $name } is turned off
block-title-service-hours = { $name } is closed now
block-title-budget = Your time for { $name } is used up

## Why: one per category, for younger and older children

cat-scams-malware = { $age ->
    [young] This website tries to trick people or to harm computers. It is blocked for everyone in your home, grown-ups too.
   *[older] This site is known for scams, fraud or malware. It is blocked for everyone on this network, adults too, because it can steal passwords or money or damage your device.
}
cat-bypass = { $age ->
    [young] This website can switch off the filter that keeps you safe online.
   *[older] This is a VPN, proxy or encrypted-DNS service. It would switch the family filter off, so it is blocked.
}
cat-adult = { $age ->
    [young] This website shows things that are only for grown-ups.
   *[older] This site has pornography or other sexual content made for adults. Sites about sexual health and relationships stay open for you.
}
cat-gambling = { $age ->
    [young] This website is about playing for money, and people can lose a lot of it.
   *[older] This is a gambling site. Betting is for adults only, and it is built to keep people playing and losing money.
}
cat-violence = { $age ->
    [young] This website shows people getting hurt. Pictures like that can be scary and stay in your head.
   *[older] This site shows real violence or gore. Pictures like these can stay with you for a long time.
}
cat-self-harm = { $age ->
    [young] This website is about people hurting themselves. If you feel sad or worried, you can talk to someone: look below.
   *[older] This site can push people towards self-harm or suicide. If you are struggling, you are not alone: the help lines below are free and private, and support sites stay open for you.
}
cat-drugs = { $age ->
    [young] This website is about drugs, alcohol or smoking, which harm children's bodies.
   *[older] This site sells or promotes drugs, alcohol or tobacco. Sites with honest health information stay open for you.
}
cat-dating = { $age ->
    [young] This website is for grown-ups who want to meet strangers.
   *[older] This is a dating app or site. They are made for adults, and people there are not always who they say they are.
}
cat-anonymous-chat = { $age ->
    [young] On this website you chat with strangers, and you cannot know who they really are.
   *[older] This is an anonymous chat with strangers. People there can pretend to be someone else, and some try to pressure young people.
}
cat-short-video = { $age ->
    [young] This app shows endless short videos. It is made to keep you watching for a very long time.
   *[older] This is a short-video app. Its endless feed is built to keep you scrolling.
}
cat-social-media = { $age ->
    [young] This is a social network. Social networks are made for older children and grown-ups.
   *[older] This is a social network. Your family chose to keep social media off for now.
}
cat-gaming = { $age ->
    [young] This is an online game. Your family chooses which games are right for you.
   *[older] This is an online game or gaming platform. Your family chose to keep it off for now.
}
cat-unsafe-search = { $age ->
    [young] This search does not hide pictures and pages that are not for children.
   *[older] This search cannot hide explicit results, so it is blocked. A search engine with safe search on works.
}
cat-piracy = { $age ->
    [young] This website shares films, music or games without paying the people who made them. Sites like this often hide tricks and viruses.
   *[older] This site shares films, music, games or software without permission. Sites like this are often full of malware and scam ads.
}
cat-fake-news = { $age ->
    [young] This website often says things that are not true.
   *[older] This site is known for spreading false or misleading news.
}
cat-trackers = { $age ->
    [young] This is a hidden helper that watches what people do online. The page you wanted usually still works without it.
   *[older] This is a tracker that records what you do online, for advertising. The page you visited usually still works without it.
}
cat-other = { $age ->
    [young] This website is in the group “{ $name }”, which your family chose to block.
   *[older] This site is in the category “{ $name }”, which your family blocks.
}

## Why, for blocks that are not about the site

why-bedtime = { $age ->
    [young] At bedtime only a few websites are open, so you can rest.
   *[older] During bedtime, only the sites your family always allows are open.
}
why-schedule = { $age ->
    [young] Right now only a few websites are open.
   *[older] Your family set these hours so that only a few sites are open.
}
why-paused = { $age ->
    [young] A grown-up paused the internet for you for a little while.
   *[older] Your parents paused the internet for you for now.
}
why-exam = { $age ->
    [young] It is exam time, so only the websites for the exam are open.
   *[older] Exam mode is on: only the sites needed for the exam are open.
}
why-service-blocked = { $age ->
    [young] A grown-up turned { $name } off for you.
   *[older] Your parents turned { $name } off for you.
}
why-service-hours = { $age ->
    [young] { $name } is only open at some times of the day, and now is not one of them.
   *[older] { $name } is only open at the times your family set.
}
why-budget = { $age ->
    [young] You have used all your time for { $name } today.
   *[older] You have used up today's time for { $name }.
}

## What they can do

can-category = { $kind ->
    [harm] { $band ->
        [young-child] Close this page and go back. If you saw something that upset you, tell a grown-up you trust.
        [child] Go back to what you were doing. If something online upset or scared you, tell a grown-up you trust.
        [teen] If it was blocked by mistake, for example a health or school page, ask below; your parents decide.
       *[older-teen] If it was blocked by mistake, say why below; your parents see your note and decide.
    }
   *[choice] { $band ->
        [young-child] If you need it for school or something important, ask a grown-up to look at it with you.
        [child] If you think it is fine, you can ask your parents to unblock it.
        [teen] If you need it, ask below and say why; your parents decide.
       *[older-teen] If you need it, ask below and say why; your parents see your note and decide.
    }
}
can-security = { $age ->
    [young] Nobody can unblock it, because it is dangerous. If a message or a game sent you here, tell a grown-up you trust.
   *[older] Nobody can unblock it, not even your parents. If a message, an ad or a link sent you here, do not type any password there, and tell someone you trust if you already did.
}
can-bedtime = { $age ->
    [young] Try again tomorrow. Sleep well!
   *[older] It opens again when bedtime ends. If you need something now, ask your parents.
}
can-schedule = It opens again when “{ $window }” ends.
can-paused = { $age ->
    [young] It comes back soon. Maybe it is time to do something else!
   *[older] It comes back when the pause ends. If you need something now, ask your parents.
}
can-exam = After the exam everything opens again. If you need a site for the exam, ask your teacher or your parents.
can-service-blocked = If you think you need it, ask your parents.
can-service-hours = Try again when it opens.
can-budget = { $age ->
    [young] You get new time tomorrow. Maybe do something else now!
   *[older] Your time starts again tomorrow. If you need more today, ask your parents.
}

## The "filtering is on for you" page

me-title = Filtering is on for you
me-hello = Hello, { $name }!
me-on = { $age ->
    [young] Your family uses a filter that keeps some websites away, to keep you safe online.
   *[older] Your family uses nestguard, a filter on this network. It keeps some kinds of sites away from your devices, and sees no more than which kinds were blocked.
}
me-kept-heading = What is kept away, and why
me-kept-none = Only dangerous sites, such as scams, are kept away for you.
me-bedtime-heading = Bedtime and quiet hours
me-bedtime-line = { $window }: { $from } to { $to }
me-bedtime-none = No bedtime or quiet hours are set for you.
me-budget-heading = Time left today
me-budget-line = { $service }: { $left } of { $allowed } minutes left
me-budget-soon = Only a few minutes left: finish what you are doing.
me-ask-heading = If a site you need is blocked
me-ask = When a site is blocked, its page says why. There you can ask your parents to unblock it and say why you need it.
me-help-always = Help lines and support sites are never blocked.

## The desktop notice

notice-link = Why? Ask to unblock

## Stand-ins for a missing name

this-service = this service
quiet-hours = quiet hours

## Category names as a child sees them

catname-scams-malware = Scams and malware
catname-bypass = Filter bypass
catname-adult = Sexual content
catname-gambling = Gambling
catname-violence = Violence and gore
catname-self-harm = Self-harm and suicide
catname-drugs = Drugs, alcohol and tobacco
catname-dating = Dating apps
catname-anonymous-chat = Anonymous chat
catname-short-video = Short video
catname-social-media = Social media
catname-gaming = Online games
catname-unsafe-search = Search without safe search
catname-piracy = Piracy
catname-fake-news = Disinformation
catname-trackers = Trackers
