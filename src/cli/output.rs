//! Report renderings: a table for people, JSON for tools, Markdown for pull
//! requests, SARIF for code-scanning dashboards.

use std::fmt::Write;

use serde_json::json;

use crate::crd::{DriftKind, Severity};
use crate::drift::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Markdown,
    Sarif,
}

pub fn render(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Table => table(report),
        OutputFormat::Json => serde_json::to_string_pretty(&json_report(report)).unwrap_or_default() + "\n",
        OutputFormat::Markdown => markdown(report),
        OutputFormat::Sarif => serde_json::to_string_pretty(&sarif(report)).unwrap_or_default() + "\n",
    }
}

/// The report as JSON, with each change's `expected` and `actual` as JSON values
/// (the status keeps them JSON-encoded, as strings, for kubectl).
fn json_report(report: &Report) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    let items = value.get_mut("items").and_then(serde_json::Value::as_array_mut);
    for item in items.into_iter().flatten() {
        let changes = item.get_mut("changes").and_then(serde_json::Value::as_array_mut);
        for change in changes.into_iter().flatten() {
            for side in ["expected", "actual"] {
                if let Some(slot) = change.get_mut(side)
                    && let Some(text) = slot.as_str()
                {
                    *slot = serde_json::from_str(text)
                        .unwrap_or_else(|_| serde_json::Value::String(text.to_string()));
                }
            }
        }
    }
    value
}

fn kind(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::Modified => "Modified",
        DriftKind::Missing => "Missing",
        DriftKind::Unmanaged => "Unmanaged",
    }
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "managed {}, in sync {}, modified {}, missing {}, unmanaged {}, ignored {}, unverified {}, coverage {:.1}%",
        s.managed, s.in_sync, s.modified, s.missing, s.unmanaged, s.ignored, s.unverified, s.coverage_percent
    )
}

/// The state resources that were not checked, by type and reason, and the checked share:
/// `not checked 5 (checked 72.2%): aws_s3_bucket 3 UnsupportedType, ...`.
fn not_checked_line(report: &Report) -> Option<String> {
    let groups = &report.summary.not_checked;
    if groups.is_empty() {
        return None;
    }
    let total: u64 = groups.iter().map(|g| g.count).sum();
    let each: Vec<String> = groups.iter().map(|g| format!("{} {} {}", g.type_, g.count, g.reason)).collect();
    Some(format!("not checked {total} (checked {:.1}%): {}", report.summary.checked_percent, each.join(", ")))
}

fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", summary_line(report));
    if let Some(line) = not_checked_line(report) {
        let _ = writeln!(out, "{line}");
    }
    for failure in &report.failures {
        let _ = writeln!(out, "partial: {} failed ({}): {}", failure.scope, failure.reason, failure.message);
    }
    if report.items.is_empty() {
        let verdict = match report.verdict() {
            crate::drift::Verdict::NothingVerified => "nothing verified",
            crate::drift::Verdict::Partial => "no drift among the resources checked (partial result)",
            _ => "no drift",
        };
        let _ = writeln!(out, "{verdict}");
        return out;
    }
    let rows: Vec<[String; 5]> = report
        .items
        .iter()
        .map(|i| {
            [
                severity(i.severity).into(),
                kind(i.kind).into(),
                i.type_.clone(),
                i.id.clone(),
                i.address.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = ["SEVERITY", "KIND", "TYPE", "ID", "ADDRESS"];
    let widths: Vec<usize> =
        (0..5).map(|c| rows.iter().map(|r| r[c].len()).chain([header[c].len()]).max().unwrap_or(0)).collect();
    let line = |cells: [&str; 5]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let _ = writeln!(out, "{}", line(header));
    for (row, item) in rows.iter().zip(&report.items) {
        let _ = writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
        for change in &item.changes {
            let _ = writeln!(
                out,
                "    {}: {} -> {}",
                change.path,
                change.expected.as_deref().unwrap_or("(unset)"),
                change.actual.as_deref().unwrap_or("(unset)")
            );
        }
    }
    out
}

fn markdown(report: &Report) -> String {
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("## Drift report\n\n");
    let _ = writeln!(out, "{}\n", summary_line(report));
    if let Some(line) = not_checked_line(report) {
        let _ = writeln!(out, "{}\n", escape(&line));
    }
    if report.items.is_empty() {
        out.push_str("No drift.\n");
        return out;
    }
    out.push_str("| Severity | Kind | Type | ID | Address | Changes |\n|---|---|---|---|---|---|\n");
    for item in &report.items {
        let changes: Vec<String> = item
            .changes
            .iter()
            .map(|c| {
                format!(
                    "`{}`: {} → {}",
                    c.path,
                    c.expected.as_deref().unwrap_or("(unset)"),
                    c.actual.as_deref().unwrap_or("(unset)")
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | `{}` | {} | {} |",
            severity(item.severity),
            kind(item.kind),
            item.type_,
            item.id,
            item.address.as_deref().map_or("-".to_string(), |a| format!("`{a}`")),
            escape(&changes.join("<br>"))
        );
    }
    out
}

fn sarif(report: &Report) -> serde_json::Value {
    let level = |s: Severity| match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    };
    let rules: Vec<_> = [DriftKind::Modified, DriftKind::Missing, DriftKind::Unmanaged]
        .into_iter()
        .map(|k| {
            let text = match k {
                DriftKind::Modified => "A managed resource's live attributes differ from Terraform state.",
                DriftKind::Missing => "A resource in Terraform state no longer exists in the cloud.",
                DriftKind::Unmanaged => "A live cloud resource is not managed by any Terraform state.",
            };
            json!({"id": kind(k), "shortDescription": {"text": text}})
        })
        .collect();
    let results: Vec<_> = report
        .items
        .iter()
        .map(|item| {
            let changes: Vec<String> = item
                .changes
                .iter()
                .map(|c| format!("{}: {} -> {}", c.path, c.expected.as_deref().unwrap_or("(unset)"), c.actual.as_deref().unwrap_or("(unset)")))
                .collect();
            let subject = item.address.clone().unwrap_or_else(|| format!("{}.{}", item.type_, item.id));
            let mut text = format!("{} {} ({}) [{}]", kind(item.kind), subject, item.id, severity(item.severity));
            if !changes.is_empty() {
                text.push_str(": ");
                text.push_str(&changes.join("; "));
            }
            json!({
                "ruleId": kind(item.kind),
                "level": level(item.severity),
                "message": {"text": text},
                "locations": [{"logicalLocations": [{"name": subject, "fullyQualifiedName": format!("{}/{}", item.type_, item.id), "kind": "resource"}]}],
                "properties": {"severity": severity(item.severity), "type": item.type_, "id": item.id, "region": item.region},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "driftmgr", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    })
}
