//! Real public CAD exports (see tests/fixtures/real_cad/SOURCES.md) through the built-in profiles.
//! Every row must be accounted for, the crosswalk must cover ≥ 98 % of calls, and a few parsed
//! values are pinned (UTC instants worked out by hand from the local wall time and zone).
use crate::common::*;

/// The manifest's record of the one ingest done into `wh`.
struct Ingest(serde_json::Value);

impl Ingest {
    fn n(&self, key: &str) -> u64 {
        self.0[key].as_u64().unwrap_or_else(|| panic!("manifest has no `{key}`: {}", self.0))
    }
    fn rejected(&self, reason: &str) -> u64 {
        self.0["rejects_by_reason"][reason].as_u64().unwrap_or(0)
    }
    fn unmapped_rows(&self) -> u64 {
        self.0["unmapped_types"].as_array().unwrap().iter().map(|u| u["rows"].as_u64().unwrap()).sum()
    }
}

/// Ingest one fixture with a built-in profile (by name) and check the accounting identity.
fn ingest(profile: &str, rel: &str) -> (TempDir, Ingest) {
    let tmp = TempDir::new();
    let wh = tmp.join("wh");
    let file = fixture(rel);
    callsift(&[
        "ingest",
        "--quiet",
        "--profile",
        profile,
        "--warehouse",
        &wh.display().to_string(),
        &file.display().to_string(),
    ])
    .ok();
    let ing = Ingest(manifest(&wh)["ingests"][0].clone());
    assert_eq!(ing.0["profile"], profile);
    assert_eq!(
        ing.n("rows_read"),
        ing.n("calls_kept") + ing.n("rows_rejected") + ing.n("unit_rows_merged") + ing.n("non_calls_dropped"),
        "{profile}: every row accounted for: {}",
        ing.0
    );
    (tmp, ing)
}

/// `(rows_read, calls_kept, rows_rejected, unit_rows_merged, non_calls_dropped)`
fn assert_counts(ing: &Ingest, expected: (u64, u64, u64, u64, u64)) {
    let got = (
        ing.n("rows_read"),
        ing.n("calls_kept"),
        ing.n("rows_rejected"),
        ing.n("unit_rows_merged"),
        ing.n("non_calls_dropped"),
    );
    assert_eq!(got, expected, "(read, kept, rejected, merged, dropped): {}", ing.0);
}

/// Crosswalk coverage of kept calls, ≥ 98 %.
fn assert_coverage(ing: &Ingest, excluded_rows: u64) {
    let calls = ing.n("calls_kept") - excluded_rows;
    let unmapped = ing.unmapped_rows() - excluded_rows;
    assert!(calls > 0);
    let share = 1.0 - unmapped as f64 / calls as f64;
    assert!(share >= 0.98, "crosswalk covers {:.1} % of calls: {}", share * 100.0, ing.0["unmapped_types"]);
}

fn sql(tmp: &TempDir, q: &str) -> String {
    sql_csv(&tmp.join("wh"), q)
}

#[test]
fn seattle_legacy_911_incident_response() {
    let (tmp, ing) = ingest("seattle_legacy_911", "real_cad/seattle/seattle_legacy_911_incident_response_2016-03.csv");
    assert_counts(&ing, (706, 706, 0, 0, 0));
    assert_eq!(ing.unmapped_rows(), 0, "{}", ing.0["unmapped_types"]);
    assert_coverage(&ing, 0);
    // received_at is the Event Clearance Date (no call time in this layout): 03/25/2016 11:58:30 PM PDT.
    let out = sql(&tmp, "SELECT received_at, final_type, district, address FROM calls WHERE call_id = '16000104006'");
    assert_eq!(
        out,
        "received_at,final_type,district,address\n2016-03-26T06:58:30Z,THEFT - CAR PROWL,K,S KING ST / 8 AV S\n"
    );
    let out = sql(&tmp, "SELECT category, bh_nexus FROM calls WHERE call_id = '16000104094'");
    assert_eq!(out, "category,bh_nexus\nBehavioral Health,true\n");
}

#[test]
fn dallas_active_calls_2018_merges_unit_rows() {
    let (tmp, ing) = ingest("dallas_active_calls_2018", "real_cad/dallas/dallas_active_calls_are8-xahz_2018-01-09.csv");
    assert_counts(&ing, (63, 45, 0, 18, 0));
    assert_eq!(ing.unmapped_rows(), 0, "{}", ing.0["unmapped_types"]);
    assert_eq!(ing.n("duplicate_call_ids"), 0);
    let out = sql(&tmp, "SELECT units FROM calls WHERE call_id = '18-0052844'");
    assert_eq!(out, "units\n4\n");
    // 2018-01-09T09:26:00 CST.
    let out = sql(&tmp, "SELECT received_at, priority, category, address FROM calls WHERE call_id = '18-0052973'");
    assert_eq!(
        out,
        "received_at,priority,category,address\n2018-01-09T15:26:00Z,4,Complaints/Environmental Conditions,3000 E Illinois Ave\n"
    );
}

#[test]
fn dallas_active_calls_2021_joins_split_date_and_time() {
    let (tmp, ing) = ingest("dallas_active_calls_2021", "real_cad/dallas/dallas_active_calls_socrata_2021-05-10.csv");
    assert_counts(&ing, (51, 41, 0, 10, 0));
    assert_eq!(ing.unmapped_rows(), 0, "{}", ing.0["unmapped_types"]);
    // `2021-05-10T00:00:00.000` + `00:59:14`, CDT; two units (F340, B316).
    let out =
        sql(&tmp, "SELECT received_at, units, priority, category, weapon FROM calls WHERE call_id = '21-0829351'");
    // `19 - Shooting`: Vera's labellers file shootings under Other Crimes; the weapon flag is callsift's.
    assert_eq!(out, "received_at,units,priority,category,weapon\n2021-05-10T05:59:14Z,2,1,Other Crimes,true\n");
}

#[test]
fn sf_fire_unit_rows_merge_on_incident_number() {
    let (tmp, ing) = ingest("sf_fire_cfs", "real_cad/sf_fire/sffd_calls_for_service_unitlevel_2016-12.csv");
    assert_counts(&ing, (2999, 1438, 0, 1561, 0));
    assert_eq!(ing.n("duplicate_call_ids"), 0);
    assert_coverage(&ing, 0);
    // 12/31/2016 11:52:01 PM PST; E38 + AM30; Code 2 Transport; Original Priority 3 (emergency).
    let out = sql(
        &tmp,
        "SELECT received_at, units, priority, disposition, category, medical FROM calls WHERE call_id = '16146989'",
    );
    assert_eq!(out, "received_at,units,priority,disposition,category,medical\n2017-01-01T07:52:01Z,2,1,transported,Medical Emergencies,true\n");
    // First dispatch / arrival across units, last unit available.
    let out = sql(&tmp, "SELECT dispatched_at, arrived_at FROM calls WHERE call_id = '16146989'");
    assert_eq!(out, "dispatched_at,arrived_at\n2017-01-01T07:55:20Z,2017-01-01T08:00:32Z\n");
}

#[test]
fn cincinnati_current_layout() {
    let (tmp, ing) = ingest("cincinnati_cfs", "real_cad/cincinnati/cpd_cfs_gexm_pdap_truncated.csv");
    // The collector's cut falls inside the last record's quoted last column: that record is
    // rejected as truncated (the file ends inside a quoted field), the other is a whole call.
    assert_counts(&ing, (2, 1, 1, 0, 0));
    assert_eq!(ing.rejected("truncated_record"), 1, "{}", ing.0);
    assert_coverage(&ing, 0);
    let out = sql(&tmp, "SELECT received_at, priority_raw, priority, disposition, category FROM calls WHERE call_id = 'CPD190807001817'");
    assert_eq!(
        out,
        "received_at,priority_raw,priority,disposition,category\n2019-08-08T03:29:36Z,27,,arrest,Statuses\n"
    );
}

#[test]
fn cincinnati_archive_truncated_record_is_rejected_not_fatal() {
    let (tmp, ing) =
        ingest("cincinnati_cfs_2014_2016", "real_cad/cincinnati/cpd_cfs_archive_2014-2016_pdap_truncated.csv");
    assert_counts(&ing, (6, 5, 1, 0, 0));
    assert_eq!(ing.rejected("truncated_record"), 1, "{}", ing.0);
    assert_coverage(&ing, 0);
    let out = sql(&tmp, "SELECT received_at, disposition, category FROM calls WHERE call_id = 'LCP151125001624'");
    assert_eq!(out, "received_at,disposition,category\n2015-11-26T04:40:10Z,assisted,Assisting the Public\n");
}

#[test]
fn lapd_both_header_orders_and_split_dispatch_time() {
    for (year, file, id, utc, ty) in [
        (
            2013,
            "real_cad/los_angeles/lapd_cfs_2013_pdap_truncated.csv",
            "131231005972",
            "2014-01-01T07:59:17Z",
            "HEARD ONLY",
        ),
        (
            2019,
            "real_cad/los_angeles/lapd_cfs_2019_pdap_truncated.csv",
            "LPD190101005322",
            "2019-01-02T05:54:06Z",
            "TRAFFIC STOP",
        ),
    ] {
        let (tmp, ing) = ingest("lapd_cfs", file);
        // The collector cut the last record inside a quoted field (`"CODE 30 RINGER⏎TRUNCATED`): the
        // file ends inside quotes, so that record is rejected as truncated rather than kept corrupted.
        assert_counts(&ing, (9, 8, 1, 0, 0));
        assert_eq!(ing.rejected("truncated_record"), 1, "{year}: {}", ing.0);
        assert_eq!(ing.unmapped_rows(), 0, "{year}: {}", ing.0["unmapped_types"]);
        assert_coverage(&ing, 0);
        let out = sql(&tmp, &format!("SELECT received_at, dispatched_at, call_type FROM calls WHERE call_id = '{id}'"));
        assert_eq!(out, format!("received_at,dispatched_at,call_type\n{utc},{utc},{ty}\n"), "{year}");
        // Leading-zero reporting districts stay text.
        let out = sql(&tmp, "SELECT count(*) AS n FROM calls WHERE beat LIKE '0%'");
        assert_ne!(out, "n\n0\n", "{year}");
    }
}

#[test]
fn milwaukee_live_calls_scrape() {
    let (tmp, ing) = ingest("milwaukee_cfs", "real_cad/milwaukee/mke_cfs_scraped_geocoded_2018-05.csv");
    assert_counts(&ing, (2999, 2999, 0, 0, 0));
    assert_coverage(&ing, 0);
    // 2018-05-01 00:10:28 CDT, `Unable to Locate Complainant`.
    let out = sql(
        &tmp,
        "SELECT received_at, call_type, disposition, district, conflict FROM calls WHERE call_id = '1211372'",
    );
    assert_eq!(out, "received_at,call_type,disposition,district,conflict\n2018-05-01T05:10:28Z,TRBL W/SUBJ,gone_on_arrival,4,true\n");
}

#[test]
fn montgomery_pa_call_time_from_desc_and_partial_last_row() {
    let (tmp, ing) = ingest("montgomery_pa_911", "real_cad/montgomery_pa/mcpa_911_kaggle_v1_2015-12.csv");
    // 2,999 whole rows + the file's real truncated last row, rejected (not fatal).
    assert_counts(&ing, (3000, 2999, 1, 0, 0));
    assert_eq!(ing.rejected("ragged_row"), 1, "{}", ing.0);
    assert_coverage(&ing, 0);
    // The feed repeats some events; they are reported, not merged.
    assert_eq!(ing.n("duplicate_call_ids"), 10);
    // `... 2015-12-10 @ 17:10:52;` in desc (EST); timeStamp (17:40:00, the poll time) is not used.
    let out = sql(
        &tmp,
        "SELECT received_at, district, category, medical FROM calls WHERE call_id LIKE 'REINDEER CT & DEAD END;%'",
    );
    assert_eq!(
        out,
        "received_at,district,category,medical\n2015-12-10T22:10:52Z,NEW HANOVER,Medical Emergencies,true\n"
    );
    let out = sql(&tmp, "SELECT count(*) AS n FROM rejects WHERE reason LIKE 'expected 9 fields%'");
    assert_eq!(out, "n\n1\n");
}

#[test]
fn every_builtin_real_profile_loads() {
    // Layouts without a shipped sample: the profile and crosswalk must at least parse.
    let tmp = TempDir::new();
    for (profile, header) in [
        ("seattle_call_data", "CAD Event Number,Event Clearance Description,Call Type,Priority,Initial Call Type,Final Call Type,Original Time Queued,Arrived Time,Precinct,Sector,Beat,Blurred_Longitude,Blurred_Latitude"),
        ("seattle_call_data", "cad_event_number,event_clearance_description,call_type,priority,initial_call_type,final_call_type,original_time_queued,arrived_time,precinct,sector,beat"),
        ("new_orleans_cfs", "NOPD_Item,Type_,TypeText,Priority,InitialType,InitialTypeText,InitialPriority,MapX,MapY,TimeCreate,TimeDispatch,TimeArrive,TimeClosed,Disposition,DispositionText,SelfInitiated,Beat,BLOCK_ADDRESS,Zip,PoliceDistrict,Location"),
        ("new_orleans_cfs", "NOPD_Item,Type,TypeText,Priority,MapX,MapY,TimeCreate,TimeDispatch,TimeArrival,TimeClosed,Disposition,DispositionText,BLOCK_ADDRESS,Zip,PoliceDistrict,Location"),
        ("baltimore_cfs", "callDateTime,priority,district,description,callNumber,incidentLocation,location"),
        ("montgomery_md_dispatched", "incident_id,cr_number,start_time,end_time,priority,initial_type,close_type,address,police_district_number,sector,calltime_callroute,calltime_dispatch,calltime_arrive,calltime_cleared,disposition_desc"),
    ] {
        let csv = tmp.write(&format!("{profile}-{}.csv", header.len()), &format!("{header}\n"));
        let wh = tmp.s(&format!("wh-{profile}-{}", header.len()));
        callsift(&["ingest", "--quiet", "--profile", profile, "--warehouse", &wh, &csv.display().to_string()]).ok();
    }
}

#[test]
fn new_orleans_priorities_self_initiated_and_non_calls() {
    // Synthetic rows in the published NOPD layout (no real sample ships): checks the value maps.
    let tmp = TempDir::new();
    let csv = tmp.write(
        "nola.csv",
        "NOPD_Item,Type_,TypeText,Priority,InitialType,InitialTypeText,InitialPriority,MapX,MapY,TimeCreate,TimeDispatch,TimeArrive,TimeClosed,Disposition,DispositionText,SelfInitiated,Beat,BLOCK_ADDRESS,Zip,PoliceDistrict,Location\n\
         A1,21,COMPLAINT OTHER,1A,107,SUSPICIOUS PERSON,1A,0,0,01/02/2020 01:00:00 AM,,,,NAT,NECESSARY ACTION TAKEN,N,1A01,001XX Canal St,70112,1,\n\
         A2,TS,TRAFFIC STOP,0A,TS,TRAFFIC STOP,0A,0,0,01/02/2020 02:00:00 AM,,,,NAT,NECESSARY ACTION TAKEN,Y,1A01,001XX Canal St,70112,1,\n\
         A3,103M,MENTAL PATIENT,2C,103M,MENTAL PATIENT,2C,0,0,01/02/2020 03:00:00 AM,,,,VOI,VOID,N,1A01,001XX Canal St,70112,1,\n\
         A4,103M,MENTAL PATIENT,3,103M,MENTAL PATIENT,2,0,0,01/02/2020 04:00:00 AM,,,,DUP,DUPLICATE,N,1A01,001XX Canal St,70112,1,\n\
         A5,21,COMPLAINT OTHER,1J,21,COMPLAINT OTHER,1J,0,0,01/02/2020 05:00:00 AM,,,,NAT,NECESSARY ACTION TAKEN,N,1A01,001XX Canal St,70112,1,\n",
    );
    let wh = tmp.join("wh");
    callsift(&[
        "ingest",
        "--quiet",
        "--profile",
        "new_orleans_cfs",
        "--warehouse",
        &wh.display().to_string(),
        &csv.display().to_string(),
    ])
    .ok();
    let ing = Ingest(manifest(&wh)["ingests"][0].clone());
    assert_counts(&ing, (5, 4, 0, 0, 1));
    // The initial priority is used (what dispatch knew): A4 was created at 2 (emergency) and closed at 3;
    // letter suffixes (1J) map by their digit.
    let out = sql_csv(&wh, "SELECT call_id, received_at, priority, self_initiated, call_source, call_type, disposition FROM calls ORDER BY call_id");
    assert_eq!(
        out,
        "call_id,received_at,priority,self_initiated,call_source,call_type,disposition\n\
         A1,2020-01-02T07:00:00Z,3,false,unknown,SUSPICIOUS PERSON,other\n\
         A2,2020-01-02T08:00:00Z,4,true,officer_initiated,TRAFFIC STOP,other\n\
         A4,2020-01-02T10:00:00Z,2,false,unknown,MENTAL PATIENT,duplicate\n\
         A5,2020-01-02T11:00:00Z,3,false,unknown,COMPLAINT OTHER,other\n"
    );
}

#[test]
fn detroit_synthetic_rows_in_the_published_layout() {
    // Synthetic rows (tests/fixtures/synthetic/…README.md): the Detroit open-data layout is detected
    // from its header; a type the Vera-derived crosswalk lacks is categorised by the classifier.
    let tmp = TempDir::new();
    let wh = tmp.join("wh");
    let csv = fixture("synthetic/detroit_911_cfs_synthetic.csv");
    let r = callsift(&["ingest", "--profile", "auto", "--warehouse", &wh.display().to_string(), csv.to_str().unwrap()])
        .ok();
    assert!(r.stdout.contains("detected profile detroit_911_cfs"), "{}", r.stdout);
    let ing = Ingest(manifest(&wh)["ingests"][0].clone());
    assert_counts(&ing, (31, 28, 3, 0, 0));
    assert_eq!(ing.n("duplicate_call_ids"), 1);
    assert_eq!(ing.0["calls_by_category_source"]["classifier"], 1);
    assert_eq!(ing.0["calls_by_category_source"]["unmapped"], 0);
    let out = sql_csv(
        &wh,
        "SELECT category, category_source, category_rule FROM calls WHERE call_type = 'JUVENILE FIREWORKS COMPLAINT'",
    );
    assert_eq!(out, "category,category_source,category_rule\nComplaints/Environmental Conditions,classifier,noise\n");
    // Suicide threats are imminent danger; the human label (Vera) gives the category.
    let out =
        sql_csv(&wh, "SELECT DISTINCT category, imminent_danger, bh_nexus FROM calls WHERE call_type LIKE 'SUICIDE%'");
    assert_eq!(out, "category,imminent_danger,bh_nexus\nBehavioral Health,true,true\n");
    // Tags without --allow-unmapped: every call has a category.
    callsift(&["tag", "--warehouse", &wh.display().to_string()]).ok();
}
