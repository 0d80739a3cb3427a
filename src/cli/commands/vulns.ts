import { stat } from 'node:fs/promises';
import { loadConfig } from '../../config.js';
import { CpeError } from '../../vulns/cpe/types.js';
import { prepareDevice } from '../../vulns/match/evaluate.js';
import { importPaths } from '../../vulns/service/importer.js';
import type { FileSummary } from '../../vulns/service/importer.js';
import { VulnMatcher } from '../../vulns/service/matching.js';
import type { MatchAllSummary } from '../../vulns/service/matching.js';
import { getIndexVersion } from '../../vulns/service/repository.js';
import { runSync } from '../../vulns/sync/index.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { withServices } from './with-services.js';

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);
const line = (o: unknown) => out(`${JSON.stringify(o)}\n`);

function fileLine(f: FileSummary): string {
  const what = f.kind ?? 'unknown';
  const extra = f.created > 0 ? `, ${f.created} new CVE rows` : '';
  const bad = f.bad > 0 ? `, ${f.bad} bad records skipped` : '';
  return `${f.path}: ${f.status} (${what}): ${f.records} records, ${f.written} written${extra}${bad}`;
}

function printBad(f: FileSummary): void {
  for (const b of f.bad_records.slice(0, 10)) {
    const where = b.line !== null ? `line ${b.line}` : `record ${b.index ?? '?'}`;
    err(`  skipped ${f.path} ${where}${b.cve_id ? ` (${b.cve_id})` : ''}: ${b.message}\n`);
  }
  if (f.bad > 10) err(`  … and ${f.bad - 10} more\n`);
}

async function rematch(matcher: VulnMatcher, json: boolean): Promise<MatchAllSummary> {
  const isTty = process.stderr.isTTY && !json;
  const r = await matcher.matchAllDevices(({ done, total }) => {
    if (isTty) err(`\rmatching devices: ${done}/${total}`);
  });
  if (isTty) err('\n');
  return r;
}

export const vulns: Command = {
  name: 'vulns',
  usage: `iotsec vulns import PATH… [--json] [--no-match]
iotsec vulns match CPE23… [--possible] [--json]
iotsec vulns sync [--nvd] [--kev] [--json]

import  Reads NVD CVE API 2.0 JSON (one record, an API page, a yearly feed, an array; gzip or not), the CISA
        KEV catalog (JSON) and FIRST EPSS scores (CSV, gzip or not) into the database; folders are walked
        (*.json, *.csv and .gz). The kind of each file is detected from its content. Bad records are skipped
        and counted; a truncated or malformed file keeps the records read before the problem and is reported
        with its byte position or line (exit 1). Then every device is re-matched (unless --no-match).
match   Matches CPE 2.3 names that together describe ONE device (firmware o: + hardware h: …) against the
        data imported in the database (run vulns import or vulns sync first). With --json, one line per CVE
        that applies: {"cve_id","severity","cvss","kev","epss","matched":[criteria…]}; --possible adds the
        CVEs that may apply (firmware version unknown, …) with "possible": true. A malformed CPE, or one with a
        wildcard vendor or product, is refused with exit code 2.
sync    Runs one NVD sync (incremental after the first, resumable; NVD_API_URL, NVD_API_KEY) and/or one KEV
        fetch (KEV_URL) now, then re-matches every device. Without --nvd or --kev, both.

Options:
  --json        one JSON object per line
  --possible    (match) also list CVEs that possibly apply
  --no-match    (import) do not re-match devices afterwards
  --nvd, --kev  (sync) what to sync
  -h, --help    this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      json: { type: 'boolean' },
      possible: { type: 'boolean' },
      'no-match': { type: 'boolean' },
      nvd: { type: 'boolean' },
      kev: { type: 'boolean' },
    });
    if (values.help) return help(this);
    const [sub, ...args] = positionals;
    const json = values.json === true;
    switch (sub) {
      case 'import': {
        if (args.length === 0) throw new UsageError('vulns import: give at least one file or folder');
        for (const a of args) {
          try {
            await stat(a);
          } catch {
            throw new UsageError(`vulns import: ${a}: no such file or folder`);
          }
        }
        return withServices(async (s) => {
          const summary = await importPaths(s.store.db, args, {
            onFile: (f) => {
              if (json) line({ type: 'file', ...f });
              else out(`${fileLine(f)}\n`);
              if (!json) printBad(f);
              if (f.error && f.status === 'failed') err(`iotsec vulns: ${f.error}\n`);
            },
          });
          let match: MatchAllSummary | null = null;
          if (!values['no-match'] && summary.written > 0) {
            match = await rematch(new VulnMatcher(s.store.db, s.bus), json);
          }
          const { files: _files, ...totals } = summary;
          if (json) line({ type: 'summary', ...totals, files: summary.files.length, match });
          else {
            out(
              `imported ${summary.records} records from ${summary.files.length} files (${summary.written} rows written, ` +
                `${summary.bad} bad records skipped, ${summary.failed} files failed, ${summary.skipped} skipped)\n`,
            );
            if (match) out(`re-matched ${match.devices} devices (${match.changed} changed)\n`);
          }
          return summary.failed > 0 ? 1 : 0;
        });
      }
      case 'match': {
        if (args.length === 0) throw new UsageError('vulns match: give the CPE 2.3 names of one device');
        for (const cpe of args) {
          try {
            prepareDevice([cpe]);
          } catch (e) {
            if (e instanceof CpeError) {
              throw new UsageError(
                e.code === 'CPE_TOO_BROAD'
                  ? `${cpe}: refused (${e.code}): a device CPE must name a concrete vendor and product, not a wildcard`
                  : `${cpe}: malformed CPE 2.3 name (${e.code}): ${e.message}`,
              );
            }
            throw e;
          }
        }
        return withServices(async (s) => {
          if ((await getIndexVersion(s.store.db)) === 0) {
            err('iotsec vulns: no NVD data imported yet (run iotsec vulns import or iotsec vulns sync)\n');
          }
          const matcher = new VulnMatcher(s.store.db, null);
          const lines = await matcher.matchCpes(args, { possible: values.possible === true });
          for (const l of lines) {
            if (json) line(l);
            else {
              out(
                `${l.cve_id}\t${l.severity ?? '-'}\t${l.cvss ?? '-'}\t${l.kev ? 'KEV' : '-'}\t` +
                  `${l.epss ?? '-'}${l.possible ? '\tpossible' : ''}\t${l.matched.join(' ')}\n`,
              );
            }
          }
          if (!json) out(`${lines.length} CVEs\n`);
          return 0;
        });
      }
      case 'sync': {
        if (args.length > 0) throw new UsageError('vulns sync takes no arguments');
        const both = !values.nvd && !values.kev;
        const what = { nvd: both || values.nvd === true, kev: both || values.kev === true };
        const config = loadConfig();
        return withServices(async (s) => {
          const r = await runSync(s.store.db, config, what, {
            onRetry: (i) => err(`retrying ${i.url} in ${Math.round(i.delayMs / 1000)} s (${i.error})\n`),
          });
          const match = await rematch(new VulnMatcher(s.store.db, s.bus), json);
          if (json) {
            line({
              type: 'summary',
              nvd: r.nvd,
              kev: r.kev && {
                records: r.kev.records,
                written: r.kev.written,
                created: r.kev.created,
                bad: r.kev.bad,
              },
              match,
            });
          } else {
            if (r.nvd) {
              out(
                `NVD: ${r.nvd.records} CVEs in ${r.nvd.pages} pages, ${r.nvd.bad} bad; up to date until ${r.nvd.last_sync_end ?? '-'}\n`,
              );
            }
            if (r.kev)
              out(
                `KEV: ${r.kev.records} entries (${r.kev.created} CVEs not imported yet), ${r.kev.bad} bad\n`,
              );
            out(`re-matched ${match.devices} devices (${match.changed} changed)\n`);
          }
          return 0;
        });
      }
      default:
        throw new UsageError(`vulns: unknown subcommand ${sub ?? '(none)'}; see iotsec vulns --help`);
    }
  },
};
