//! Filtering quality (issue 20), over real sockets: the reason a block is
//! reported under does not depend on list order or rule specificity, and
//! public institutions stay reachable when an opinion list names them.

use std::net::Ipv4Addr;

use crate::support::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

/// `[[rules.list]]` tables for `(file, category, text)`, written into `dir`, in this order.
fn lists(dir: &TempDir, lists: &[(&str, &str, &str)]) -> String {
    let mut out = String::new();
    for (file, category, text) in lists {
        std::fs::write(dir.join(file), text).unwrap();
        out.push_str(&format!(
            "[[rules.list]]\npath = \"{}\"\ncategory = \"{category}\"\n",
            dir.join(file).display()
        ));
    }
    out
}

/// The category a blocked answer reports (from its EDE text), or None when not blocked.
async fn reason(d: &TestDaemon, name: &str) -> Option<String> {
    let answer = query_udp(d.addr, name, RecordType::A).await;
    if answer.metadata.response_code != ResponseCode::NXDomain {
        return None;
    }
    let (_, text) = ede(answer.edns.as_ref())?;
    Some(text.split(':').next()?.to_string())
}

async fn upstream(names: &[&str]) -> FakeUpstream {
    let up = FakeUpstream::start().await;
    for n in names {
        up.set_a(&format!("{n}."), Ipv4Addr::new(192, 0, 2, 80), 300);
    }
    up
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reported_category_follows_precedence_whatever_the_list_order() {
    let names = ["www.clip.example", "gamble-porn.example", "both.example"];
    let up = upstream(&names).await;
    let files = [
        // The more specific rule is social media's; short video comes first in precedence.
        (
            "social.txt",
            "social-media",
            "www.clip.example\nboth.example\n",
        ),
        ("video.txt", "short-video", "clip.example\n"),
        // A gambling list names it; the adult keyword `porn` matches it too.
        ("gambling.txt", "gambling", "gamble-porn.example\n"),
        // Security first, whatever else lists it.
        ("malware.txt", "scams-malware", "both.example\n"),
        ("bypass.txt", "bypass", "both.example\n"),
    ];
    let mut seen = Vec::new();
    for reversed in [false, true] {
        let dir = TempDir::new();
        let mut order = files.to_vec();
        if reversed {
            order.reverse();
        }
        let d = TestDaemon::with_upstream(&up, &lists(&dir, &order)).await;
        let mut got = Vec::new();
        for n in names {
            got.push(reason(&d, n).await);
        }
        d.stop().await;
        seen.push(got);
    }
    let want = vec![
        Some("short-video".to_string()),
        Some("adult".to_string()),
        Some("scams-malware".to_string()),
    ];
    assert_eq!(seen[0], want, "lists in one order");
    assert_eq!(seen[1], want, "lists in the other order");
}
