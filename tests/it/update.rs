//! `nestguard update` against a loopback HTTPS server with a throwaway CA:
//! a first download, a 304, and refused truncated and oversized lists that
//! leave the previous copy in place.

use std::path::{Path, PathBuf};

use crate::support::http::ListServer;
use crate::support::*;

fn list(n: usize) -> Vec<u8> {
    let mut text = String::from("# a test list\n");
    for i in 0..n {
        text.push_str(&format!("listed{i}.example\n"));
    }
    text.into_bytes()
}

use crate::support::cli::run;

fn config(dir: &TempDir, url: &str, ca_file: &Path) -> PathBuf {
    let path = dir.join("nestguard.toml");
    std::fs::write(
        &path,
        format!(
            "[state]\ndir = \"{}\"\n[update]\nca_file = \"{}\"\nmax_size_mib = 1\nmax_shrink = 0.5\n\
             [[update.list]]\nname = \"Test list\"\nurl = \"{url}\"\ncategory = \"adult\"\n",
            dir.join("state").display(),
            ca_file.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn update_downloads_revalidates_and_refuses_bad_lists() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ca = TestCa::new();
    let server = rt.block_on(ListServer::start(&ca));
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    let cfg = config(&dir, &server.url("/list.txt"), &ca_file);
    let copy = dir.join("state/lists/test-list.txt");

    // First download.
    let good = list(1000);
    server.set(good.clone(), "\"v1\"");
    let (code, out, err) = run(&["update"], &cfg);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(
        out,
        format!(
            "Test list (adult): updated: 1000 entries ({} bytes)\n",
            good.len()
        )
    );
    assert_eq!(std::fs::read(&copy).unwrap(), good);
    // The engine uses it.
    let (code, out, _) = run(
        &["explain", "www.listed7.example", "--profile", "child"],
        &cfg,
    );
    assert_eq!(code, Some(0));
    assert!(
        out.contains("BLOCKED") && out.contains("test-list.txt:9: listed7.example"),
        "{out}"
    );

    // Unchanged: a conditional request, answered 304.
    let (code, out, _) = run(&["update"], &cfg);
    assert_eq!(code, Some(0));
    assert_eq!(out, "Test list (adult): not modified\n");
    let head = server.last_request().to_ascii_lowercase();
    assert!(head.contains("if-none-match: \"v1\""), "{head}");
    assert!(
        head.contains("if-modified-since: mon, 23 nov 2026 10:00:00 gmt"),
        "{head}"
    );

    // Truncated: refused, the previous copy stays.
    server.set(list(100), "\"v2\"");
    let (code, out, _) = run(&["update"], &cfg);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("REFUSED, the previous copy stays: shrank from 1000 to 100 entries"),
        "{out}"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), good);

    // Oversized (the limit is 1 MiB): refused, the previous copy stays.
    server.set(list(80_000), "\"v3\"");
    let (code, out, _) = run(&["update"], &cfg);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("REFUSED, the previous copy stays: larger than update.max_size_mib (1 MiB)"),
        "{out}"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), good);

    // An error page served as 200: refused.
    server.set(
        b"<html>\n<body>\nRate limited\n</body>\n</html>\n".to_vec(),
        "\"v4\"",
    );
    let (code, out, _) = run(&["update"], &cfg);
    assert_eq!(code, Some(1));
    assert!(out.contains("REFUSED"), "{out}");
    assert_eq!(std::fs::read(&copy).unwrap(), good);

    // A grown list is taken.
    server.set(list(1200), "\"v5\"");
    let (code, out, _) = run(&["update"], &cfg);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("updated: 1200 entries"), "{out}");
}

#[test]
fn update_reads_file_urls_and_names_unknown_subscriptions() {
    let dir = TempDir::new();
    std::fs::write(dir.join("local.txt"), list(5)).unwrap();
    let cfg = dir.join("nestguard.toml");
    std::fs::write(
        &cfg,
        format!(
            "[state]\ndir = \"{}\"\n[[update.list]]\nname = \"Local\"\nurl = \"file://{}\"\ncategory = \"gaming\"\n",
            dir.join("state").display(),
            dir.join("local.txt").display()
        ),
    )
    .unwrap();
    let (code, out, _) = run(&["update"], &cfg);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        format!(
            "Local (gaming): updated: 5 entries ({} bytes)\n",
            list(5).len()
        )
    );

    std::fs::write(&cfg, "[update]\nsubscriptions = [\"No Such List\"]\n").unwrap();
    let (code, _, err) = run(&["update"], &cfg);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no subscription named `No Such List`"),
        "{err}"
    );
}

/// Copies a directory tree (the shipped rules, to change one file of them).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn one_line_turns_on_the_recommended_subscriptions_and_update_fetches_only_those() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ca = TestCa::new();
    let server = rt.block_on(ListServer::start(&ca));
    server.set(list(20), "\"r1\"");
    let dir = TempDir::new();
    let ca_file = ca.write_ca_file(dir.path());
    let rules = dir.join("rules");
    copy_tree(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")),
        &rules,
    );
    let sub = |category: &str, name: &str, recommended: bool, path: &str| {
        format!(
            "[[subscription]]\ncategory = \"{category}\"\nname = \"{name}\"\nrecommended = {recommended}\n\
             url = \"{}\"\nformat = \"domains\"\nlicence = \"MIT\"\nhomepage = \"https://example.org\"\n",
            server.url(path)
        )
    };
    std::fs::write(
        rules.join("subscriptions.toml"),
        [
            sub("gambling", "Gambling Brands", true, "/gambling.txt"),
            sub("dating", "Dating Sites", true, "/dating.txt"),
            sub("social-media", "Not Recommended", false, "/social.txt"),
        ]
        .concat(),
    )
    .unwrap();
    let cfg = dir.join("nestguard.toml");
    std::fs::write(
        &cfg,
        format!(
            "[state]\ndir = \"{}\"\n[rules]\ndir = \"{}\"\n[update]\nca_file = \"{}\"\nsubscriptions = [\"recommended\"]\n",
            dir.join("state").display(),
            rules.display(),
            ca_file.display()
        ),
    )
    .unwrap();
    let (code, out, err) = run(&["check"], &cfg);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, err) = run(&["update"], &cfg);
    assert_eq!(code, Some(0), "{out}{err}");
    let bytes = list(20).len();
    assert_eq!(
        out,
        format!(
            "Gambling Brands (gambling): updated: 20 entries ({bytes} bytes)\n\
             Dating Sites (dating): updated: 20 entries ({bytes} bytes)\n"
        )
    );
    assert!(!dir.join("state/lists/not-recommended.txt").exists());
    // The child profile blocks them, under the subscription's category.
    let (code, out, _) = run(
        &["explain", "www.listed3.example", "--profile", "child"],
        &cfg,
    );
    assert_eq!(code, Some(0));
    assert!(
        out.contains("BLOCKED: gambling") && out.contains("gambling-brands.txt:5: listed3.example"),
        "{out}"
    );
}
