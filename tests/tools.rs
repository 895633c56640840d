//! Analyst tools over the real binary: profile detection, `--profile auto`, crosswalk suggestions,
//! `explain`, the waterfall and `--scenarios all`.
use crate::common::*;

#[test]
fn detect_names_the_right_profile_for_every_real_sample() {
    for (file, profile) in [
        ("real_cad/dallas/dallas_active_calls_are8-xahz_2018-01-09.csv", "dallas_active_calls_2018"),
        ("real_cad/dallas/dallas_active_calls_socrata_2021-05-10.csv", "dallas_active_calls_2021"),
        ("real_cad/los_angeles/lapd_cfs_2019_pdap_truncated.csv", "lapd_cfs"),
        ("real_cad/milwaukee/mke_cfs_scraped_geocoded_2018-05.csv", "milwaukee_cfs"),
        ("real_cad/montgomery_pa/mcpa_911_kaggle_v1_2015-12.csv", "montgomery_pa_911"),
        ("real_cad/seattle/seattle_legacy_911_incident_response_2016-03.csv", "seattle_legacy_911"),
        ("real_cad/sf_fire/sffd_calls_for_service_unitlevel_2016-12.csv", "sf_fire_cfs"),
        ("real_cad/cincinnati/cpd_cfs_gexm_pdap_truncated.csv", "cincinnati_cfs"),
        ("real_cad/cincinnati/cpd_cfs_archive_2014-2016_pdap_truncated.csv", "cincinnati_cfs_2014_2016"),
    ] {
        let r = callsift(&["profile", "detect", fixture(file).to_str().unwrap()]).ok();
        let first = r.stdout.lines().next().unwrap();
        assert!(first.contains(&format!("best match {profile} (confidence")), "{file}: {}", r.stdout);
    }
    let r = callsift(&[
        "profile",
        "detect",
        fixture("real_cad/seattle/seattle_legacy_911_incident_response_2016-03.csv").to_str().unwrap(),
    ])
    .ok();
    assert!(r.stdout.contains("columns not used:") && r.stdout.contains("Census Tract"), "{}", r.stdout);
}

#[test]
fn profile_list_shows_built_ins() {
    let r = callsift(&["profile", "list"]).ok();
    for p in ["callsift_sample", "seattle_call_data", "new_orleans_cfs", "dallas_active_calls_2021", "baltimore_cfs"] {
        assert!(r.stdout.lines().any(|l| l.starts_with(p)), "{p}: {}", r.stdout);
    }
}

#[test]
fn profile_auto_ingests_mixed_layouts_and_refuses_unknown_ones() {
    let t = TempDir::new();
    let wh = t.s("wh");
    let a = fixture("real_cad/dallas/dallas_active_calls_are8-xahz_2018-01-09.csv");
    let b = fixture("real_cad/dallas/dallas_active_calls_socrata_2021-05-10.csv");
    let r =
        callsift(&["ingest", "--profile", "auto", "--warehouse", &wh, a.to_str().unwrap(), b.to_str().unwrap()]).ok();
    assert!(r.stdout.contains("detected profile dallas_active_calls_2018"), "{}", r.stdout);
    assert!(r.stdout.contains("detected profile dallas_active_calls_2021"), "{}", r.stdout);
    assert_eq!(
        sql_csv(&t.join("wh"), "SELECT source, count(*) AS n FROM calls GROUP BY source ORDER BY source"),
        "source,n\ndallas_active_calls_2018,45\ndallas_active_calls_2021,41\n"
    );

    let odd = t.write("odd.csv", "foo,bar\n1,2\n");
    let r = callsift(&["ingest", "--profile", "auto", "--warehouse", &wh, odd.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("odd.csv") && r.stderr.contains("no profile matches"), "{}", r.stderr);
}

#[test]
fn crosswalk_suggest_drafts_rows_for_unmapped_types() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let r = callsift(&["crosswalk", "suggest", "--warehouse", &wh]).ok();
    assert_eq!(
        r.stdout,
        "raw_type,category,weapon,violence,medical,in_progress,imminent_danger,insufficient_info,bh_nexus,conflict,police_type,third_party_likelihood,confidence,rule,calls,source,note\n\
         CODE ZULU,,,,,,,,,,,,,,1,,REVIEW: no rule matched; choose a category\n"
    );
    // On a file, with a profile whose crosswalk lacks types: a draft written for review.
    let csv = t.write(
        "cad.csv",
        "incident_number,unit_id,call_received,dispatched,on_scene,cleared,call_source,initial_type,final_type,priority,disposition,district,beat,block_address,narrative\n\
         1,A,01/01/2024 01:00:00 AM,,,,911,MENTAL SUBJ W/ KNIFE,,2,,D1,1A,,\n\
         2,A,01/01/2024 01:00:00 AM,,,,911,MENTAL SUBJ W/ KNIFE,,2,,D1,1A,,\n\
         3,A,01/01/2024 01:00:00 AM,,,,911,WELFARE CHECK,,3,,D1,1A,,\n",
    );
    let out = t.join("draft.csv");
    let r = callsift(&[
        "crosswalk",
        "suggest",
        "--profile",
        "callsift_sample",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .ok();
    assert!(
        r.stdout.contains(
            "wrote 1 draft crosswalk rows (1 with a suggested category = 100.0% of 2 calls, 0 to review by hand)"
        ),
        "{}",
        r.stdout
    );
    let draft = std::fs::read_to_string(out).unwrap();
    assert_eq!(
        draft.lines().nth(1).unwrap(),
        "MENTAL SUBJ W/ KNIFE,Behavioral Health,1,,,,,,1,,,0.5,0.99,mental_health+mod_weapon_gun,2,classifier,REVIEW: suggested by the classifier"
    );

    // A type list from any city (`raw_type,count`): drafts for every type, for review.
    let types = t.write("types.csv", "raw_type,count\nSUICIDE THREAT,40\nWELFARE CHK,\"1,200\"\nXQ 77,3\n");
    let r = callsift(&["crosswalk", "suggest", "--types", types.to_str().unwrap(), "--out", &t.s("d2.csv")]).ok();
    assert!(
        r.stdout.contains("wrote 3 draft crosswalk rows (2 with a suggested category = 99.8% of 1243 calls"),
        "{}",
        r.stdout
    );
    let d2 = std::fs::read_to_string(t.join("d2.csv")).unwrap();
    let lines: Vec<&str> = d2.lines().collect();
    assert!(lines[1].starts_with("WELFARE CHK,Assisting the Public,") && lines[1].contains(",1200,"), "{d2}");
    // Suicide types are imminent danger (never eligible under `broad`).
    assert!(lines[2].starts_with("SUICIDE THREAT,Behavioral Health,,,,,1,,1,"), "{d2}");
    assert!(lines[3].starts_with("XQ 77,,") && lines[3].contains("REVIEW: no rule matched"), "{d2}");
}

#[test]
fn explain_waterfall_and_all_scenarios() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    let r = callsift(&["tag", "--warehouse", &wh, "--scenarios", "all", "--allow-unmapped"]).ok();
    assert!(r.stdout.contains("tagged 8 calls under 8 scenarios"), "{}", r.stdout);

    let r = callsift(&["explain", "24-0000001", "--warehouse", &wh]).ok();
    assert!(r.stdout.contains("units                  2"), "{}", r.stdout);
    assert!(r.stdout.contains("category_source        crosswalk"), "{}", r.stdout);
    // Sized on the initial type (a welfare check, a police type); the final type records a person in
    // crisis, which gives the call a behavioral-health nexus: no_police_types does not remove it.
    assert!(r.stdout.contains("bh_nexus               true"), "{}", r.stdout);
    assert!(
        r.stdout.lines().any(|l| l.trim_start().starts_with("false") && l.contains("limitation no_police_types")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("no_third_party ") && l.contains("eligible") && l.contains("probability 0.10")),
        "{}",
        r.stdout
    );
    let r = callsift(&["explain", "24-0000011", "--warehouse", &wh]).ok();
    assert!(
        r.stdout.lines().any(|l| l.trim_start().starts_with("true") && l.contains("limitation no_police_types")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.lines().any(|l| l.contains("narrowest") && l.contains("limited:no_police_types")), "{}", r.stdout);
    let r = callsift(&["explain", "nope", "--warehouse", &wh]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no call `nope`"), "{}", r.stderr);

    let w = callsift(&["report", "waterfall", "--warehouse", &wh, "--format", "csv"]).ok();
    insta::assert_snapshot!("mini_waterfall_csv", w.stdout);
    let broad: Vec<&str> = w.stdout.lines().filter(|l| l.starts_with("broad,")).collect();
    assert_eq!(broad.first().copied(), Some("broad,all calls,8,8,,,"));
    assert_eq!(broad.last().copied(), Some("broad,eligible,5,5,71.4,5,5"));
    let c = callsift(&["report", "waterfall_by_category", "--warehouse", &wh, "--format", "csv"]).ok();
    insta::assert_snapshot!("mini_waterfall_by_category_csv", c.stdout);
}

#[test]
fn csv_mechanics_bom_crlf_latin1_sentinels_padding_duplicate_headers() {
    let t = TempDir::new();
    // A profile copy with a sentinel for "no time" (as some cities write 1900-01-01).
    let profile = std::fs::read_to_string(root().join("profiles/callsift_sample.toml")).unwrap().replace(
        "formats = [\"%m/%d/%Y %I:%M:%S %p\"]",
        "formats = [\"%m/%d/%Y %I:%M:%S %p\"]\nsentinels = [\"01/01/1900 12:00:00 AM\"]",
    );
    t.write("p/quirky.toml", &profile);
    std::fs::copy(root().join("profiles/callsift_sample.crosswalk.csv"), t.join("p/callsift_sample.crosswalk.csv"))
        .unwrap();
    let mut bytes: Vec<u8> = b"\xEF\xBB\xBFincident_number,unit_id,call_received,dispatched,on_scene,cleared,call_source,initial_type,final_type,priority,disposition,district,beat,block_address,narrative,beat\r\n".to_vec();
    // Latin-1 / Windows-1252 bytes (0xC9 = É, 0x92 = ’) in a UTF-8 file; space padding; a sentinel clear time.
    bytes.extend_from_slice(b"  00123 ,1A1, 01/05/2024 09:00:00 AM ,01/05/2024 09:05:00 AM,,01/01/1900 12:00:00 AM,911,  welfare check ,,3,ADVISED,D1,1A,12XX BLOCK OF CAF\xC9 ST,O\x92BRIEN,9Z\r\n");
    bytes.extend_from_slice(
        b"00124,1A2,01/05/2024 10:00:00 AM,,,,911,WELFARE CHECK,,3,ADVISED,D1,1A,1XX BLOCK OF MAIN ST,,9Z\r\n",
    );
    let file = t.join("quirks.csv");
    std::fs::write(&file, bytes).unwrap();
    let wh = t.s("wh");
    let r = callsift(&[
        "ingest",
        "--profile",
        t.join("p/quirky.toml").to_str().unwrap(),
        "--warehouse",
        &wh,
        file.to_str().unwrap(),
    ])
    .ok();
    assert!(r.stdout.contains("rows read 2 = calls kept 2 + rejected 0"), "{}", r.stdout);
    assert_eq!(
        sql_csv(
            &t.join("wh"),
            "SELECT call_id, received_at, cleared_at, category, address, beat FROM calls ORDER BY call_id"
        ),
        "call_id,received_at,cleared_at,category,address,beat\n\
         00123,2024-01-05T16:00:00Z,,Assisting the Public,12XX BLOCK OF CAFÉ ST,1A\n\
         00124,2024-01-05T17:00:00Z,,Assisting the Public,1XX BLOCK OF MAIN ST,1A\n"
    );
}

#[test]
fn dispatch_model_policies_check_and_tag_the_mini_warehouse() {
    let t = TempDir::new();
    let wh = ingest_mini(&t);
    for p in ["dispatch_call_center", "dispatch_embedded", "dispatch_hotline"] {
        let r = callsift(&["policy", "check", p]).ok();
        assert!(r.stdout.contains(&format!("policy {p} is valid")), "{}", r.stdout);
        let r = callsift(&["tag", "--policy", p, "--warehouse", &wh, "--allow-unmapped"]).ok();
        assert!(r.stdout.contains(&format!("of policy {p}")), "{}", r.stdout);
        let sizing = callsift(&["report", "sizing", "--warehouse", &wh, "--format", "csv"]).ok().stdout;
        // Every dispatch model keeps the standard scenarios and adds its own.
        assert!(sizing.lines().any(|l| l.starts_with("broad,")), "{p}: {sizing}");
        assert!(sizing.lines().count() > 6, "{p}: {sizing}");
    }
}
