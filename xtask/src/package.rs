//! `cargo xtask package`: Tally's Linux packages, `.deb` and `.rpm`, made by Tauri's
//! bundler from the app cargo built, declaring the libraries the binary really links (found
//! the way Debian's own packaging finds them); and the checks a distribution runs on them,
//! which the test command runs on a package of the debug build.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{Result, cargo, output_of, root, run_cmd, step, text_of, under_display};
use crate::setup::{self, build_ui};

/// What the app needs at run time beyond the libraries it links: a session bus, on which
/// the keychain (the Secret Service) is reached.
const DEB_RUNTIME_DEPENDS: &[&str] = &["default-dbus-session-bus | dbus-session-bus"];

/// A Secret Service keeps the API key; desktops ship one of these. Without any, Tally
/// cannot keep the key, and says so.
const DEB_RECOMMENDS: &[&str] = &["gnome-keyring | keepassxc | kwalletmanager"];
const RPM_RECOMMENDS: &[&str] = &["gnome-keyring"];

/// The two packages of one build.
pub struct Packages {
    pub deb: PathBuf,
    pub rpm: PathBuf,
}

/// `cargo xtask package [--debug]`: builds the app (release unless `debug`) and its
/// packages, into `target/package/`, and checks them. `--installed-tests`: the test
/// command's package step alone, on the debug app (see [`installed_tests`]).
pub fn package(debug: bool, installed_tests: bool) -> Result {
    if installed_tests {
        // The test command's last step alone, on the debug app (a developer's shortcut).
        step("system packages", || setup::system_packages(true))?;
        build_ui()?;
        step("build Tally", || run_cmd(setup::debug_apps_build()))?;
        let driver = setup::tauri_driver()?;
        return step(
            "Linux packages of the debug app: checked, installed, upgraded, updated, removed",
            || self::installed_tests(&driver),
        );
    }
    step("system packages", || setup::system_packages(false))?;
    build_ui()?;
    step("build Tally", || {
        if debug {
            // The test command's selection, so that nothing is compiled twice.
            return run_cmd(setup::debug_apps_build());
        }
        let mut build = cargo();
        build.args(["build", "--release", "-p", "tally-app"]);
        run_cmd(build)
    })?;
    let packages = bundled(debug, None)?;
    step("check the packages as a distribution would", || {
        check(&packages)
    })?;
    for package in [&packages.deb, &packages.rpm] {
        println!("{} ({})", package.display(), megabytes(package));
    }
    Ok(())
}

/// Bundles the app cargo built (`target/debug` or `target/release`) as `.deb` and `.rpm`
/// into `target/package/`, at `version` if given instead of the app's (an upgrade's
/// package in the tests).
pub fn bundled(debug: bool, version: Option<&str>) -> Result<Packages> {
    let profile = if debug { "debug" } else { "release" };
    let built = root().join("target").join(profile).join("tally");
    let work = root().join("target/package/work");
    // The bundler takes the binary from `$CARGO_TARGET_DIR/<profile>`: a staging copy, so
    // that what cargo built stays as it was (the bundler writes the package type into the
    // binary it packs), stripped as a distribution strips (the debug build's line tables
    // are most of its size, and lintian refuses an unstripped binary).
    let staging = work.join("target");
    let binary = staging.join(profile).join("tally");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(binary.parent().expect("a folder")).map_err(|e| e.to_string())?;
    let tauri = setup::tauri_cli()?;
    let mut packages = None;
    step("bundle the .deb and the .rpm", || {
        let mut strip = Command::new("strip");
        strip
            .args([
                "--strip-unneeded",
                "--remove-section=.comment",
                "--remove-section=.note",
                "-o",
            ])
            .arg(&binary)
            .arg(&built);
        run_cmd(strip)?;
        let changelog = gzipped("changelog", &work)?;
        let manual = gzipped("tally.1", &work)?;
        let mut deb_depends = deb_shared_library_depends(&binary, &work)?;
        deb_depends.extend(DEB_RUNTIME_DEPENDS.iter().map(|d| d.to_string()));
        let mut config = serde_json::json!({
            "bundle": { "linux": {
                "deb": {
                    "depends": deb_depends,
                    "recommends": DEB_RECOMMENDS,
                    "files": {
                        "/usr/share/doc/tally/changelog.gz": changelog,
                        "/usr/share/man/man1/tally.1.gz": manual,
                    },
                },
                "rpm": {
                    "files": { "/usr/share/man/man1/tally.1.gz": manual },
                    "depends": rpm_shared_library_requires(&binary)?,
                    "recommends": RPM_RECOMMENDS,
                },
            } }
        });
        if let (Some(version), Some(fields)) = (version, config.as_object_mut()) {
            fields.insert("version".into(), version.into());
        }
        let config_file = work.join("bundle-config.json");
        std::fs::write(&config_file, config.to_string()).map_err(|e| e.to_string())?;
        let bundle_dir = staging.join(profile).join("bundle");
        let mut bundle = Command::new(&tauri);
        bundle.args(["bundle", "--ci", "--bundles", "deb,rpm", "--config"]);
        bundle
            .arg(&config_file)
            .current_dir(root().join("src-tauri"))
            .env("CARGO_TARGET_DIR", &staging);
        if debug {
            bundle.arg("--debug");
        }
        run_cmd(bundle)?;
        let out = root().join("target/package");
        packages = Some(Packages {
            deb: moved(&bundle_dir.join("deb"), "deb", &out)?,
            rpm: moved(&bundle_dir.join("rpm"), "rpm", &out)?,
        });
        Ok(())
    })?;
    packages.ok_or_else(|| "the bundler made no packages".into())
}

/// `packaging/linux/<name>` compressed into `work` as Debian wants it: at most, and
/// without a timestamp (the same bytes each time).
fn gzipped(name: &str, work: &Path) -> Result<PathBuf> {
    let gzip = output_of(
        Command::new("gzip")
            .args(["-9", "-n", "-c"])
            .arg(root().join("packaging/linux").join(name)),
    )?;
    let compressed = work.join(format!("{name}.gz"));
    std::fs::write(&compressed, gzip).map_err(|e| e.to_string())?;
    Ok(compressed)
}

/// Moves the one `.extension` file the bundler left in `dir` into `out`.
fn moved(dir: &Path, extension: &str, out: &Path) -> Result<PathBuf> {
    let made: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    let [made] = made.as_slice() else {
        return Err(format!(
            "expected one .{extension} in {}, found {made:?}",
            dir.display()
        ));
    };
    let moved = out.join(made.file_name().expect("a file"));
    std::fs::rename(made, &moved).map_err(|e| e.to_string())?;
    Ok(moved)
}

/// The Debian packages (with their lowest versions) of the libraries `binary` links, as
/// `dpkg-shlibdeps` finds them from the installed libraries' symbols files: what Debian's
/// own packages declare as `${shlibs:Depends}`.
fn deb_shared_library_depends(binary: &Path, work: &Path) -> Result<Vec<String>> {
    // dpkg-shlibdeps reads a source package's control file; a minimal one will do.
    let debian = work.join("debian");
    std::fs::create_dir_all(&debian).map_err(|e| e.to_string())?;
    std::fs::write(
        debian.join("control"),
        "Source: tally\n\nPackage: tally\nArchitecture: any\n",
    )
    .map_err(|e| e.to_string())?;
    let stdout = text_of(
        Command::new("dpkg-shlibdeps")
            .args(["-O", "--warnings=0"])
            .arg(format!("-e{}", binary.display()))
            .current_dir(work),
    )?;
    let depends = stdout
        .lines()
        .find_map(|line| line.strip_prefix("shlibs:Depends="))
        .ok_or_else(|| format!("dpkg-shlibdeps printed {stdout:?}"))?;
    Ok(depends.split(", ").map(str::to_string).collect())
}

/// The shared objects `binary` links, as an RPM requires them (`libgtk-3.so.0()(64bit)`),
/// which every RPM distribution resolves to its own package names.
fn rpm_shared_library_requires(binary: &Path) -> Result<Vec<String>> {
    let listing = text_of(
        Command::new("readelf")
            .args(["--dynamic", "--wide"])
            .arg(binary),
    )?;
    let requires: Vec<String> = listing
        .lines()
        .filter(|line| line.contains("(NEEDED)"))
        .filter_map(|line| line.split('[').nth(1)?.split(']').next())
        .map(|soname| format!("{soname}()(64bit)"))
        .collect();
    if requires.is_empty() {
        return Err(format!("{} links no shared library?", binary.display()));
    }
    Ok(requires)
}

fn megabytes(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// The icon sizes a desktop picks from (a menu, a dock, a software centre's page).
const ICON_SIZES: &[u32] = &[16, 24, 32, 48, 64, 128, 256, 512];

/// Checks the packages as a distribution would: `lintian` on the `.deb` (no error nor
/// warning; its infos are shown),
/// `desktop-file-validate` on its menu entry and `appstreamcli validate` on its metainfo
/// (both clean, pedantic hints included); then what the packages declare and hold.
pub fn check(packages: &Packages) -> Result {
    let mut lintian = Command::new("lintian");
    lintian
        .args(["--fail-on", "error,warning", "--display-info"])
        .args(["--tag-display-limit", "0"])
        .arg(&packages.deb);
    run_cmd(lintian)?;

    let unpacked = root().join("target/package/work/unpacked");
    let _ = std::fs::remove_dir_all(&unpacked);
    let mut extract = Command::new("dpkg-deb");
    extract.arg("-x").arg(&packages.deb).arg(&unpacked);
    run_cmd(extract)?;
    let desktop = unpacked.join("usr/share/applications/Tally.desktop");
    clean_output(Command::new("desktop-file-validate").arg(&desktop))?;
    let metainfo = unpacked.join("usr/share/metainfo/app.tally.desktop.metainfo.xml");
    clean_output(
        Command::new("appstreamcli")
            .args(["validate", "--no-net", "--pedantic"])
            .arg(&metainfo),
    )?;
    let entry = std::fs::read_to_string(&desktop).map_err(|e| e.to_string())?;
    for line in ["Exec=tally", "Icon=tally", "Keywords=ChatGPT;AI;chat;"] {
        if !entry.lines().any(|l| l.starts_with(line)) {
            return Err(format!("the menu entry lacks {line}:\n{entry}"));
        }
    }
    let icons = unpacked.join("usr/share/icons/hicolor");
    let mut wanted: Vec<PathBuf> = ICON_SIZES
        .iter()
        .map(|size| icons.join(format!("{size}x{size}/apps/tally.png")))
        .collect();
    wanted.push(icons.join("scalable/apps/tally.svg"));
    wanted.push(unpacked.join("usr/share/doc/tally/copyright"));
    wanted.push(unpacked.join("usr/share/doc/tally/changelog.gz"));
    wanted.push(unpacked.join("usr/share/man/man1/tally.1.gz"));
    if let Some(missing) = wanted.iter().find(|path| !path.is_file()) {
        return Err(format!("the .deb lacks {}", missing.display()));
    }
    let depends = text_of(
        Command::new("dpkg-deb")
            .args(["-f"])
            .arg(&packages.deb)
            .arg("Depends"),
    )?;
    for library in [
        "libwebkit2gtk-4.1-0",
        "libgtk-3-0",
        "libc6",
        "dbus-session-bus",
    ] {
        if !depends.contains(library) {
            return Err(format!("the .deb does not depend on {library}: {depends}"));
        }
    }
    println!(".deb Depends: {}", depends.trim());
    // One version everywhere a user or a software centre reads it.
    let version = deb_version(&packages.deb)?;
    let changelog = std::fs::read_to_string(root().join("packaging/linux/changelog"))
        .map_err(|e| e.to_string())?;
    let metainfo = std::fs::read_to_string(&metainfo).map_err(|e| e.to_string())?;
    // The software centre's screenshots are the guide's pictures, published with it.
    for image in metainfo.split("<image>").skip(1) {
        let url = image.split("</image>").next().unwrap_or_default();
        let name = url.strip_prefix("https://tally.app/guide/").unwrap_or(url);
        if !root().join("docs/guide").join(name).is_file() {
            return Err(format!(
                "the metainfo shows {url}, which is not a picture of docs/guide/"
            ));
        }
    }
    if !changelog.starts_with(&format!("tally ({version})"))
        || !metainfo.contains(&format!("<release version=\"{version}\""))
    {
        return Err(format!(
            "version {version}: give it a first entry in packaging/linux/changelog and a first \
             <release> in the metainfo"
        ));
    }

    let requires = text_of(
        Command::new("rpm")
            .args(["-qp", "--requires"])
            .arg(&packages.rpm),
    )?;
    let files = text_of(Command::new("rpm").args(["-qpl"]).arg(&packages.rpm))?;
    for (what, listing) in [
        ("libwebkit2gtk-4.1.so.0()(64bit)", &requires),
        ("libgtk-3.so.0()(64bit)", &requires),
        ("/usr/bin/tally", &files),
        ("/usr/share/applications/Tally.desktop", &files),
        ("/usr/share/metainfo/app.tally.desktop.metainfo.xml", &files),
        ("/usr/share/icons/hicolor/512x512/apps/tally.png", &files),
        ("/usr/share/man/man1/tally.1.gz", &files),
    ] {
        if !listing.lines().any(|line| line.trim() == what) {
            return Err(format!("the .rpm lacks {what}:\n{listing}"));
        }
    }
    println!(
        ".rpm Requires: {}",
        requires.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    Ok(())
}

/// Runs a checker that prints nothing when it finds nothing; anything it prints fails.
fn clean_output(command: &mut Command) -> Result {
    let shown = format!("{command:?}");
    let output = command.output().map_err(|e| format!("{shown}: {e}"))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // appstreamcli ends a clean run with this line.
    let findings: Vec<&str> = said
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.contains("Validation was successful."))
        .collect();
    if output.status.success() && findings.is_empty() {
        Ok(())
    } else {
        Err(format!("{shown} found:\n{said}"))
    }
}

/// A later release for the updater's test: the app built again with `version` compiled in
/// (only Tally's own crate is compiled again), packaged, and its `.deb` signed with a key
/// made for this run (never one of the repository's). Also a signature of another package
/// for the same version: a download that does not match what was signed.
pub struct SignedRelease {
    pub deb: PathBuf,
    pub signature: PathBuf,
    pub wrong_signature: PathBuf,
    pub public_key: PathBuf,
}

pub fn signed_release(version: &str, other_deb: &Path) -> Result<SignedRelease> {
    step("build the next version", || {
        let config = serde_json::json!({ "version": version }).to_string();
        let mut build = setup::debug_apps_build();
        build.env("TAURI_CONFIG", config);
        run_cmd(build)
    })?;
    let packages = bundled(true, Some(version))?;
    let tauri = setup::tauri_cli()?;
    let work = root().join("target/package/work");
    let key = work.join("update-test.key");
    let mut generate = Command::new(&tauri);
    generate
        .args([
            "signer",
            "generate",
            "--ci",
            "--force",
            "--password",
            "",
            "--write-keys",
        ])
        .arg(&key);
    run_cmd(generate)?;
    let sign = |file: &Path, signature: PathBuf| -> Result<PathBuf> {
        let mut sign = Command::new(&tauri);
        sign.args(["signer", "sign", "--password", "", "--app-version", version])
            .arg("--private-key-path")
            .arg(&key)
            .arg(file);
        run_cmd(sign)?;
        let made = PathBuf::from(format!("{}.sig", file.display()));
        std::fs::rename(&made, &signature).map_err(|e| e.to_string())?;
        Ok(signature)
    };
    Ok(SignedRelease {
        signature: sign(&packages.deb, work.join("update.sig"))?,
        wrong_signature: sign(other_deb, work.join("update-wrong.sig"))?,
        deb: packages.deb,
        public_key: PathBuf::from(format!("{}.pub", key.display())),
    })
}

/// The version after `version` (its last number one higher).
pub fn next_version(version: &str) -> Result<String> {
    let (head, last) = version
        .rsplit_once('.')
        .ok_or_else(|| format!("not a version: {version}"))?;
    let last: u64 = last
        .parse()
        .map_err(|_| format!("not a plain version: {version}"))?;
    Ok(format!("{head}.{}", last + 1))
}

/// The version a `.deb` declares.
pub fn deb_version(deb: &Path) -> Result<String> {
    text_of(Command::new("dpkg-deb").arg("-f").arg(deb).arg("Version"))
        .map(|v| v.trim().to_string())
}

/// The debug app's packages checked as a distribution would, then installed for real
/// (`tests/e2e/installed.mjs`, as root): installed, upgraded, updated in the app (signed
/// with a test key, served on loopback, and once with a signature that does not match),
/// removed. What cargo built for the tests is packed, not rebuilt.
pub fn installed_tests(driver: &Path) -> Result {
    let packages = bundled(true, None)?;
    check(&packages)?;
    // The same app, packaged as a later version: what dpkg does on an upgrade.
    let version = deb_version(&packages.deb)?;
    let upgrade = bundled(true, Some(&format!("{version}+upgrade")))?;
    let release = signed_release(&next_version(&version)?, &packages.deb)?;
    under_display(
        "--test-reporter=spec tests/e2e/installed.mjs",
        &[
            ("TALLY_E2E_DEB", packages.deb),
            ("TALLY_E2E_UPGRADE_DEB", upgrade.deb),
            ("TALLY_E2E_UPDATE_DEB", release.deb),
            ("TALLY_E2E_UPDATE_SIG", release.signature),
            ("TALLY_E2E_UPDATE_WRONG_SIG", release.wrong_signature),
            ("TALLY_E2E_UPDATE_PUBKEY", release.public_key),
            ("TALLY_E2E_MOCK", root().join("target/debug/mock-openai")),
            ("TALLY_E2E_DRIVER", driver.to_path_buf()),
        ],
        "TALLY_E2E_HOME",
        "-installed",
        None,
    )
}
