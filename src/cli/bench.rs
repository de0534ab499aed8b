//! `loglens bench ...`: runs a benchmark and prints a table or one JSON object.

use anyhow::Context;

use super::{BenchParseArgs, EXIT_OK};
use crate::bench::{data_dir, parse};
use crate::logs::miner::MinerConfig;

pub(super) fn parse(args: BenchParseArgs) -> anyhow::Result<i32> {
    if let Some(input) = &args.input {
        let r = parse::throughput(input, args.input_format.as_deref())
            .with_context(|| format!("benchmark on {}", input.display()))?;
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!("input       {}", r.input.display());
            println!("format      {}", r.format);
            println!("lines       {}", r.lines);
            println!(
                "lines/s     {:.0} (one core, parse + timestamp + template match)",
                r.lines_per_sec
            );
            println!("templates   {}", r.templates);
            println!("timestamps  {}", r.with_timestamp);
            match r.peak_rss_mb {
                Some(m) => println!("peak RSS    {m:.1} MiB"),
                None => println!("peak RSS    unknown"),
            }
        }
        return Ok(EXIT_OK);
    }
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| data_dir().join("loghub-2k"));
    let r = parse::accuracy(&data, MinerConfig::default())?;
    if args.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{:<12} {:>6} {:>9} {:>9} {:>12}",
            "system", "lines", "grouping", "parsing", "lines/s"
        );
        for s in &r.systems {
            println!(
                "{:<12} {:>6} {:>9.3} {:>9.3} {:>12.0}",
                s.name, s.lines, s.grouping_accuracy, s.parsing_accuracy, s.lines_per_sec
            );
        }
        println!(
            "{:<12} {:>6} {:>9.3} {:>9.3} {:>12.0}",
            "average",
            "",
            r.average.grouping_accuracy,
            r.average.parsing_accuracy,
            r.average.lines_per_sec
        );
    }
    Ok(EXIT_OK)
}
