//! `regsim explain --format html` in a real browser: Debian's Chromium, headless, opens the page
//! from a file (nothing fetched: the page has no script and no outside resource) and takes a
//! screenshot; the drawing must be there at the size the SVG says, with its arrows in the
//! request, answer and refusal colours. Skipped with a message locally when Chromium is missing,
//! required under CI.

use regsim::explain::html::{BACKGROUND, GRANTED, REFUSED, REQUEST};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn rgb(hex: &str) -> [u8; 3] {
    let n = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

/// The SVG's `width` and `height` attributes.
fn svg_size(page: &str) -> (u32, u32) {
    let svg = &page[page.find("<svg ").expect("an <svg>")..];
    let attr = |name: &str| -> u32 {
        let at = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

#[test]
fn the_html_page_s_diagram_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            !in_ci(),
            "CI must run the HTML check, but Chromium is not installed (Debian's chromium)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED explain --format html in Chromium: no /usr/bin/chromium (apt-get install chromium)"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("regsim-explain-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regsim"))
        .current_dir(root())
        .args([
            "explain",
            "--format",
            "html",
            "scenarios/seed-001-private-project-image-denied.yaml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>\n"));
    assert!(
        !page.contains("<script") && !page.contains(" src=") && !page.contains("<link"),
        "the page is self-contained"
    );
    let (width, height) = svg_size(&page);
    let file = dir.join("seed-001.html");
    std::fs::write(&file, &page).unwrap();
    let shot = dir.join("shot.png");
    // The flags a root sandbox needs, and no background traffic (nothing leaves the machine).
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1400,2400",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", file.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("Chromium still running after 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let (w, h) = (info.width as usize, info.height as usize);
    let at = |x: usize, y: usize| -> [u8; 3] {
        let i = (y * w + x) * channels;
        [buf[i], buf[i + 1], buf[i + 2]]
    };
    // How many pixels have `colour`, and the box around them.
    let count = |colour: [u8; 3]| {
        let mut n = 0usize;
        let (mut left, mut right, mut top, mut bottom) = (usize::MAX, 0, usize::MAX, 0);
        for y in 0..h {
            for x in 0..w {
                if at(x, y) == colour {
                    n += 1;
                    left = left.min(x);
                    right = right.max(x);
                    top = top.min(y);
                    bottom = bottom.max(y);
                }
            }
        }
        (n, left, right, top, bottom)
    };
    // The drawing's background covers its box, at the size the SVG gives (less what is drawn on it).
    let (n, left, right, top, bottom) = count(rgb(BACKGROUND));
    assert!(n > 0, "the diagram's background is nowhere in the screenshot");
    let (drawn_w, drawn_h) = (right - left + 1, bottom - top + 1);
    assert!(
        drawn_w.abs_diff(width as usize) <= 2 && drawn_h.abs_diff(height as usize) <= 2,
        "the drawing is {drawn_w}×{drawn_h} px on screen, the SVG says {width}×{height}"
    );
    assert!(
        n * 10 >= drawn_w * drawn_h * 6,
        "the background shows in only {n} of {} px of the drawing",
        drawn_w * drawn_h
    );
    // Its arrows and notes, in their colours, inside the drawing (the page's text below uses
    // the same green and red).
    for (what, colour, least) in [
        ("requests", REQUEST, 300),
        ("answers", GRANTED, 100),
        ("refusals", REFUSED, 300),
    ] {
        let colour = rgb(colour);
        let n = (top..=bottom)
            .flat_map(|y| (left..=right).map(move |x| (x, y)))
            .filter(|&(x, y)| at(x, y) == colour)
            .count();
        assert!(
            n >= least,
            "{what}: {n} px of {colour:?} in the drawing (at least {least} expected)"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
