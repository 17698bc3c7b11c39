//! Children and their age bands.
//!
//! A `[[child]]` names a child, the devices that are theirs and what differs
//! for them. Which shipped profile (age band) applies follows their birth
//! month, read against the profiles' `ages` (`under 9`, `9-12`, …, `adults`),
//! or is the `profile` the parent wrote.
//!
//! A birthday never changes a child's filtering silently: the band a child
//! is in is recorded in the state folder (`children.toml`), and when the
//! birth month says the child has moved up, they keep the recorded band, and
//! `status` and the dashboard say a move is waiting, until a parent confirms
//! it (`nestguard confirm-band leo`, or the dashboard's button). With
//! `band_change = "automatic"` the child moves on the birthday and the
//! parent is told. Before that day, the next move and its date are shown.
//! A parent who edits `born` or `profile` has decided: the record follows.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::config::{BandChange, BirthMonth, ChildConfig, Config};
use crate::rules::catalog::ProfileDef;

/// Children whose band follows a birthday see the next move this long before it.
pub const NOTICE_DAYS: i32 = 30;

/// One child as the daemon runs them: who, which band, and what comes next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChildPlan {
    /// `leo`: the id on the command line, in reports and as the policy's id.
    pub id: String,
    /// `Leo`: as the parent wrote it.
    pub name: String,
    /// The shipped profile in force for them.
    pub band: String,
    #[serde(skip)]
    pub born: Option<BirthMonth>,
    /// The age in whole years today, when `born` is given.
    pub age: Option<i16>,
    /// A move to another band: coming on a date, or waiting for a parent.
    pub next: Option<NextBand>,
    /// The language of their pages and notices (`de`), when set for them.
    #[serde(skip)]
    pub language: Option<String>,
}

/// The band a child moves into next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NextBand {
    pub band: String,
    /// The birthday it is due on.
    pub on: Date,
    /// The day has come and the child still has the old band: a parent must
    /// confirm (`band_change = "ask"`).
    pub waiting: bool,
}

impl ChildPlan {
    /// One line for `status` and the dashboard, if there is news: a move
    /// waiting for a parent, or one coming within [`NOTICE_DAYS`].
    pub fn notice(&self, today: Date) -> Option<String> {
        let next = self.next.as_ref()?;
        if next.waiting {
            return Some(format!(
                "{} turned {} on {}: still on `{}` until a parent confirms `{}` (nestguard confirm-band {})",
                self.name,
                self.age.unwrap_or_default(),
                next.on,
                self.band,
                next.band,
                self.id
            ));
        }
        let days = (next.on - today).get_days();
        (0..=NOTICE_DAYS).contains(&days).then(|| {
            format!(
                "{} has a birthday on {}: moves from `{}` to `{}` then, once a parent confirms",
                self.name, next.on, self.band, next.band
            )
        })
    }
}

/// The bands recorded in the state folder (`children.toml`), by child id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    #[serde(default, rename = "child")]
    pub children: BTreeMap<String, RecordedBand>,
}

/// What a child's band was last set to, and from which birth month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedBand {
    pub band: String,
    /// The `born` it was worked out from: a parent who edits `born` decides anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born: Option<String>,
    /// When it was set.
    pub since: Date,
}

impl Recorded {
    /// The record in the state folder; none when there is no file yet. A
    /// file that cannot be read or parsed is an error: a child's band must
    /// not fall back silently.
    pub fn load(state_dir: &Path) -> Result<Recorded, String> {
        let path = crate::state::layout::child_bands(state_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Recorded::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes it atomically.
    pub fn save(&self, state_dir: &Path) -> io::Result<()> {
        let body = toml::to_string(self).map_err(io::Error::other)?;
        let text = format!(
            "# The age band each child is in, kept by nestguard: a birthday moves a child\n# only when a parent confirms it (`nestguard confirm-band NAME`).\n\n{body}"
        );
        crate::state::write_atomic(
            &crate::state::layout::child_bands(state_dir),
            text.as_bytes(),
        )
    }

    /// Records what `plans` put in force, for children not yet recorded or
    /// whose band changed by the parent's hand or automatically. Returns
    /// whether anything changed (and should be saved).
    pub fn follow(&mut self, plans: &[ChildPlan], today: Date) -> bool {
        let mut changed = false;
        for p in plans {
            let born = p.born.map(|b| b.to_string());
            let entry = RecordedBand {
                band: p.band.clone(),
                born,
                since: today,
            };
            match self.children.get(&p.id) {
                Some(r) if r.band == entry.band && r.born == entry.born => {}
                _ => {
                    self.children.insert(p.id.clone(), entry);
                    changed = true;
                }
            }
        }
        changed
    }

    /// Records the bands an engine put in force (see [`Recorded::follow`]),
    /// writing the file only when something changed. A failure is logged:
    /// the bands in force stay, and the next start or reload tries again.
    pub fn keep(state_dir: &Path, plans: &[ChildPlan], today: Date) {
        if plans.is_empty() {
            return;
        }
        let mut recorded = match Recorded::load(state_dir) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the children's recorded bands");
                return;
            }
        };
        if recorded.follow(plans, today)
            && let Err(e) = recorded.save(state_dir)
        {
            tracing::warn!(error = %e, "cannot record the children's bands");
        }
    }

    /// A parent confirms the band `plan` says is due.
    pub fn confirm(&mut self, plan: &ChildPlan, today: Date) -> Option<String> {
        let next = plan.next.as_ref().filter(|n| n.waiting)?;
        self.children.insert(
            plan.id.clone(),
            RecordedBand {
                band: next.band.clone(),
                born: plan.born.map(|b| b.to_string()),
                since: today,
            },
        );
        Some(next.band.clone())
    }
}

/// A profile's `ages`, as a range of whole years.
fn age_range(ages: &str) -> Option<(i16, i16)> {
    let a = ages.trim();
    if let Some(n) = a.strip_prefix("under ") {
        return Some((0, n.trim().parse::<i16>().ok()? - 1));
    }
    if a == "adults" || a == "18+" {
        return Some((18, i16::MAX));
    }
    let (lo, hi) = a.split_once('-')?;
    Some((lo.trim().parse().ok()?, hi.trim().parse().ok()?))
}

/// The profile whose `ages` hold `age`.
pub fn band_for_age(profiles: &[ProfileDef], age: i16) -> Option<&str> {
    profiles
        .iter()
        .find(|p| age_range(&p.ages).is_some_and(|(lo, hi)| (lo..=hi).contains(&age)))
        .map(|p| p.id.as_str())
}

/// The date a child born in `born` turns `years`.
fn birthday(born: BirthMonth, years: i16) -> Option<Date> {
    Date::new(born.year.checked_add(years)?, born.month, 1).ok()
}

/// Age in whole years on `day`, the birthday taken as the 1st of the month.
pub fn age_on(born: BirthMonth, day: Date) -> i16 {
    let mut age = day.year() - born.year;
    if day.month() < born.month {
        age -= 1;
    }
    age.max(0)
}

/// Works out every child's band for `today`, from the config, the shipped
/// profiles and what was recorded.
pub fn plan(
    config: &Config,
    profiles: &[ProfileDef],
    today: Date,
    recorded: &Recorded,
) -> Result<Vec<ChildPlan>, String> {
    config
        .children
        .iter()
        .map(|c| plan_one(c.get_ref(), profiles, today, recorded))
        .collect()
}

fn plan_one(
    c: &ChildConfig,
    profiles: &[ProfileDef],
    today: Date,
    recorded: &Recorded,
) -> Result<ChildPlan, String> {
    let id = c.id();
    let name = c.name.get_ref().trim().to_string();
    let born = c.born.as_ref().map(|b| *b.get_ref());
    let age = born.map(|b| age_on(b, today));
    let mut plan = ChildPlan {
        id,
        name,
        band: String::new(),
        born,
        age,
        next: None,
        language: c.language.as_ref().map(|l| l.get_ref().clone()),
    };
    if let Some(p) = &c.profile {
        plan.band = p.get_ref().clone();
        return Ok(plan);
    }
    let (Some(born), Some(age)) = (born, age) else {
        return Err(format!("child `{}` needs born or profile", plan.name));
    };
    let computed = band_for_age(profiles, age).ok_or_else(|| {
        format!(
            "child `{}` is {age}: no profile's ages hold that age",
            plan.name
        )
    })?;
    let record = recorded
        .children
        .get(&plan.id)
        .filter(|r| r.born.as_deref() == Some(born.to_string().as_str()));
    match record {
        Some(r) if r.band != computed && c.band_change == BandChange::Ask => {
            // The birthday that moved them: the first age of the new band.
            let first = (0..=age)
                .rev()
                .take_while(|&a| band_for_age(profiles, a) == Some(computed))
                .last()
                .unwrap_or(age);
            plan.band = r.band.clone();
            plan.next = birthday(born, first).map(|on| NextBand {
                band: computed.to_string(),
                on,
                waiting: true,
            });
            return Ok(plan);
        }
        _ => plan.band = computed.to_string(),
    }
    // The next birthday that moves them, if any band follows.
    plan.next = (age + 1..=age.saturating_add(30))
        .find_map(|a| {
            let band = band_for_age(profiles, a)?;
            (band != computed).then_some((a, band))
        })
        .and_then(|(a, band)| {
            Some(NextBand {
                band: band.to_string(),
                on: birthday(born, a)?,
                waiting: false,
            })
        });
    Ok(plan)
}

/// The first day on which a plan made today would differ: the earliest
/// coming birthday that moves an automatic child, or that starts a wait.
pub fn replan_on(plans: &[ChildPlan]) -> Option<Date> {
    plans
        .iter()
        .filter_map(|p| p.next.as_ref().filter(|n| !n.waiting).map(|n| n.on))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles() -> Vec<ProfileDef> {
        crate::rules::catalog::load_catalog(&crate::rules::catalog::RulesDir::Embedded)
            .map(|c| c.profiles)
            .unwrap_or_default()
    }

    fn config(child: &str) -> Config {
        Config::parse(child, "test.toml", None).unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_band_follows_the_age_in_the_shipped_profiles() {
        let p = profiles();
        assert_eq!(band_for_age(&p, 5), Some("young-child"));
        assert_eq!(band_for_age(&p, 8), Some("young-child"));
        assert_eq!(band_for_age(&p, 9), Some("child"));
        assert_eq!(band_for_age(&p, 12), Some("child"));
        assert_eq!(band_for_age(&p, 13), Some("teen"));
        assert_eq!(band_for_age(&p, 16), Some("older-teen"));
        assert_eq!(band_for_age(&p, 18), Some("unfiltered"));
    }

    #[test]
    fn age_counts_from_the_first_of_the_birth_month() {
        let born: BirthMonth = "2018-05".parse().unwrap();
        assert_eq!(age_on(born, date("2027-04-30")), 8);
        assert_eq!(age_on(born, date("2027-05-01")), 9);
        assert!("2018-5".parse::<BirthMonth>().is_err());
        assert!("2018-13".parse::<BirthMonth>().is_err());
    }

    #[test]
    fn a_birthday_waits_for_a_parent_and_automatic_moves_at_once() {
        let p = profiles();
        let c = config("[[child]]\nname = \"Leo\"\nborn = \"2018-05\"\n");
        let mut rec = Recorded::default();
        let before = plan(&c, &p, date("2027-04-20"), &rec).unwrap();
        assert_eq!(before[0].band, "young-child");
        let next = before[0].next.clone().unwrap();
        assert_eq!(
            (next.band.as_str(), next.on, next.waiting),
            ("child", date("2027-05-01"), false)
        );
        assert!(
            before[0]
                .notice(date("2027-04-20"))
                .unwrap()
                .contains("2027-05-01")
        );
        assert!(rec.follow(&before, date("2027-04-20")));
        let after = plan(&c, &p, date("2027-05-02"), &rec).unwrap();
        assert_eq!(after[0].band, "young-child", "no silent change");
        assert!(after[0].next.as_ref().unwrap().waiting);
        assert!(!rec.follow(&after, date("2027-05-02")));
        assert_eq!(
            rec.confirm(&after[0], date("2027-05-02")).as_deref(),
            Some("child")
        );
        let confirmed = plan(&c, &p, date("2027-05-02"), &rec).unwrap();
        assert_eq!(confirmed[0].band, "child");
        assert_eq!(confirmed[0].next.as_ref().unwrap().on, date("2031-05-01"));

        let auto =
            config("[[child]]\nname = \"Leo\"\nborn = \"2018-05\"\nband_change = \"automatic\"\n");
        let moved = plan(
            &auto,
            &p,
            date("2027-05-02"),
            &Recorded {
                children: [(
                    "leo".to_string(),
                    RecordedBand {
                        band: "young-child".into(),
                        born: Some("2018-05".into()),
                        since: date("2027-01-01"),
                    },
                )]
                .into(),
            },
        )
        .unwrap();
        assert_eq!(moved[0].band, "child");
    }

    #[test]
    fn a_parent_who_edits_born_decides_anew() {
        let p = profiles();
        let rec = Recorded {
            children: [(
                "leo".to_string(),
                RecordedBand {
                    band: "young-child".into(),
                    born: Some("2018-05".into()),
                    since: date("2027-01-01"),
                },
            )]
            .into(),
        };
        let c = config("[[child]]\nname = \"Leo\"\nborn = \"2016-05\"\n");
        assert_eq!(
            plan(&c, &p, date("2027-06-01"), &rec).unwrap()[0].band,
            "child"
        );
    }
}
