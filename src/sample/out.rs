//! The CSV row writer: formats a unit row, breaks malformed ones on purpose, keeps the stats.

use std::io;

use super::gen::{Malformed, UnitRow};
use super::time::fmt_time;
use super::{SampleStats, Sink, HEADER};

/// Writes rows until `target` rows are written; later rows are dropped.
pub(super) struct Out<W: io::Write> {
    wtr: csv::Writer<W>,
    /// Reused buffers for the four timestamps.
    bufs: [String; 4],
    stats: SampleStats,
    target: usize,
}

impl<W: io::Write> Out<W> {
    /// Start the export: writes the header.
    pub fn new(out: W, target: usize) -> io::Result<Out<W>> {
        let mut wtr = csv::WriterBuilder::new().flexible(true).from_writer(out);
        wtr.write_record(HEADER)?;
        Ok(Out { wtr, bufs: Default::default(), stats: SampleStats::default(), target })
    }

    pub fn finish(mut self) -> io::Result<SampleStats> {
        self.wtr.flush()?;
        Ok(self.stats)
    }
}

impl<W: io::Write> Sink for Out<W> {
    fn done(&self) -> bool {
        self.stats.rows >= self.target
    }

    /// Write one row (nothing once `target` rows are written).
    fn write(&mut self, row: &UnitRow) -> io::Result<()> {
        if self.done() {
            return Ok(());
        }
        let c = &*row.call;
        for b in self.bufs.iter_mut() {
            b.clear();
        }
        let [recv, disp, scene, clr] = &mut self.bufs;
        fmt_time(recv, c.received);
        if let Some(t) = row.dispatched {
            fmt_time(disp, t);
        }
        if let Some(t) = row.on_scene {
            fmt_time(scene, t);
        }
        fmt_time(clr, row.cleared);
        let district = ["D1", "D2", "D3", "D4", "D5", "D6"][c.district as usize - 1];
        let mut rec: [&str; 15] = [
            &c.incident,
            &row.unit,
            recv,
            disp,
            scene,
            clr,
            c.source,
            &c.initial,
            &c.final_,
            &c.priority,
            c.disposition,
            district,
            &c.beat,
            &c.address,
            &c.narrative,
        ];
        self.stats.rows += 1;
        match c.malformed {
            None => {
                if row.first {
                    self.stats.incidents += 1;
                    self.stats.officer_initiated += row.onview as usize;
                    self.stats.community_responder_incidents += row.cr as usize;
                } else {
                    self.stats.unit_rows += 1;
                }
                self.wtr.write_record(rec)?;
            }
            Some(m) => {
                self.stats.malformed += 1;
                match m {
                    Malformed::BadDate => rec[2] = "13/45/2024 27:61:00 PM",
                    Malformed::NotADate => rec[2] = "NOT A DATE",
                    Malformed::EmptyIncident => rec[0] = "",
                    Malformed::BadPriority => rec[9] = "P9",
                    Malformed::MissingField => {
                        // A field dropped mid-row (everything after it shifts left).
                        let mut short: Vec<&str> = rec.to_vec();
                        short.remove(10);
                        self.wtr.write_record(&short)?;
                        return Ok(());
                    }
                    Malformed::ExtraField => {
                        let mut long: Vec<&str> = rec.to_vec();
                        long.insert(14, "");
                        self.wtr.write_record(&long)?;
                        return Ok(());
                    }
                }
                self.wtr.write_record(rec)?;
            }
        }
        Ok(())
    }
}
