//! The rules shipped in `rules/` (built into the binary): they compile cleanly,
//! every profile exists, and the default keywords block the obvious without the
//! Scunthorpe problem.

use nestguard::config::RulesConfig;
use nestguard::rules::name::Candidate;
use nestguard::rules::parse::ClientInfo;
use nestguard::rules::{CategoryMask, Matcher, RuleSet, Verdict, catalog};

fn shipped() -> RuleSet {
    let (set, diagnostics, _) =
        catalog::compile(&RulesConfig::default()).expect("shipped rules compile");
    assert_eq!(
        diagnostics.rejected(),
        0,
        "shipped lists must have no rejected lines:\n{diagnostics}"
    );
    // rules/tools/build-lists.py leaves out what the guards would override:
    // no public institution or help line in an opinion list, no line that
    // blocks a whole portal (rules/guard/portals.txt).
    let guarded: Vec<&str> = diagnostics.guarded().collect();
    assert!(guarded.is_empty(), "{guarded:#?}");
    set
}

fn verdict(set: &RuleSet, name: &str, mask: CategoryMask) -> Verdict {
    let c = Candidate::from_text(name).unwrap_or_else(|| panic!("bad test name {name}"));
    set.check(&c, 1, &ClientInfo::default(), mask, false)
}

#[test]
fn every_preset_profile_exists() {
    let set = shipped();
    for p in ["young-child", "child", "teen", "older-teen", "unfiltered"] {
        assert!(set.profile_mask(p).is_some(), "profile {p}");
    }
    assert!(set.domain_rules() > 1000, "starter lists are loaded");
}

#[test]
fn keyword_defaults_block_obvious_adult_names() {
    let set = shipped();
    let child = set.profile_mask("child").unwrap();
    for name in [
        "porn.example.com",
        "free-porn.example",
        "porn4u.example",
        "xxx.example",
        "xxx-videos.example",
        "www.hot-xxx.example",
    ] {
        match verdict(&set, name, child) {
            Verdict::Blocked(o) => {
                assert_eq!(set.category(o.category).unwrap().id, "adult", "{name}")
            }
            v => panic!("{name} should be blocked for child, got {v:?}"),
        }
    }
    // A keyword decides only names no list decided: check one that is in no list.
    let v = verdict(&set, "zq-porn-zq.example", child);
    assert!(
        matches!(v, Verdict::Blocked(o) if o.matcher == Matcher::Keyword),
        "{v:?}"
    );
}

#[test]
fn keyword_defaults_avoid_the_scunthorpe_problem() {
    let set = shipped();
    for name in [
        "essex.ac.uk",
        "www.essex.ac.uk",
        "scunthorpe-united.co.uk",
        "therapist.com",
        "analytics.google.com",
        "childline.org.uk",
        "sussex.ac.uk",
        "middlesex.ac.uk",
        "sexualhealth.org",
        "cockburn.com",
        "dickens.org",
    ] {
        let v = verdict(&set, name, CategoryMask::ALL);
        assert!(
            !matches!(v, Verdict::Blocked(o) if o.matcher == Matcher::Keyword),
            "{name} blocked by a keyword: {v:?}"
        );
        let child = set.profile_mask("child").unwrap();
        assert!(
            !matches!(verdict(&set, name, child), Verdict::Blocked(_)),
            "{name} blocked for child"
        );
    }
}

#[test]
fn unfiltered_blocks_nothing() {
    let set = shipped();
    let none = set.profile_mask("unfiltered").unwrap();
    assert_eq!(verdict(&set, "porn.example.com", none), Verdict::NoMatch);
}
