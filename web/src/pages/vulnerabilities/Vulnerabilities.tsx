import { Link } from 'react-router-dom';
import type { Page } from '../../api/client';
import { VULN_SEVERITIES, VULN_SORTS, type Vulnerability, type VulnSort } from '../../api/types';
import type { Column } from '../../components/DataTable';
import { Check, Field, FilterForm, InputField, Options } from '../../components/Form';
import { PageHeader } from '../../components/Page';
import { PagedTable } from '../../components/PagedTable';
import { Empty, ErrorState, Loading } from '../../components/States';
import { formatDateTime, formatInt } from '../../format';
import { useGet } from '../../hooks/useGet';
import { useSearchUpdate } from '../../hooks/useSearchUpdate';
import { useLiveEvents } from '../../live';
import explorer from '../Explorer.module.css';
import styles from '../Inventory.module.css';
import { SeverityBadge } from '../Section';

const PAGE_SIZE = 50;

const isSort = (s: string | null): s is VulnSort => (VULN_SORTS as readonly (string | null)[]).includes(s);

export const formatEpss = (epss: number | null, percentile?: number | null): string =>
  epss === null
    ? '—'
    : `${(epss * 100).toFixed(epss < 0.001 ? 3 : 1)}%${
        percentile !== null && percentile !== undefined ? ` (p${Math.round(percentile * 100)})` : ''
      }`;

export const formatCvss = (score: number | null): string => (score === null ? '—' : score.toFixed(1));

export function KevBadge({ kev, ransomware }: { kev: boolean; ransomware?: boolean | null }) {
  if (!kev) return null;
  return (
    <span
      className={explorer.kev}
      title="Listed in CISA's Known Exploited Vulnerabilities catalogue"
      data-testid="kev-badge"
    >
      KEV
      <span className="visually-hidden">: known to be exploited</span>
      {ransomware ? ' · ransomware' : ''}
    </span>
  );
}

export const severityOf = (v: Pick<Vulnerability, 'severity'>): string =>
  (v.severity ?? 'none').toLowerCase();

const columns: Column<Vulnerability>[] = [
  {
    key: 'cve_id',
    header: 'CVE',
    sortKey: 'cve_id',
    render: (v) => (
      <Link to={`/vulnerabilities/${encodeURIComponent(v.cve_id)}`} className={styles.nowrap}>
        {v.cve_id}
      </Link>
    ),
  },
  { key: 'severity', header: 'Severity', render: (v) => <SeverityBadge severity={severityOf(v)} /> },
  { key: 'cvss', header: 'CVSS', sortKey: 'cvss', numeric: true, render: (v) => formatCvss(v.cvss_score) },
  {
    key: 'kev',
    header: 'KEV',
    render: (v) => (v.kev ? <KevBadge kev ransomware={v.kev_ransomware} /> : '—'),
  },
  {
    key: 'epss',
    header: 'EPSS',
    sortKey: 'epss',
    numeric: true,
    render: (v) => <span className={styles.nowrap}>{formatEpss(v.epss)}</span>,
  },
  {
    key: 'affected_devices',
    header: 'Devices',
    numeric: true,
    render: (v) =>
      v.affected_devices > 0 ? (
        <Link to={`/vulnerabilities/${encodeURIComponent(v.cve_id)}#affected-title`}>
          {formatInt(v.affected_devices)}
        </Link>
      ) : (
        '0'
      ),
  },
  {
    key: 'published',
    header: 'Published',
    sortKey: 'published',
    render: (v) => <span className={styles.nowrap}>{formatDateTime(v.published)}</span>,
  },
  {
    key: 'description',
    header: 'Description',
    render: (v) => <span className={explorer.description}>{v.description ?? '—'}</span>,
  },
];

export default function Vulnerabilities() {
  const { params, setParams, update } = useSearchUpdate();
  const severity = params.get('severity') ?? '';
  const kev = params.get('kev') === 'true';
  const affected = params.get('affected') === 'true';
  const q = params.get('q') ?? '';
  const sortParam = params.get('sort');
  const sort: VulnSort = isSort(sortParam) ? sortParam : 'cvss';
  const order = params.get('order') === 'asc' ? 'asc' : 'desc';
  const cursor = params.get('cursor') ?? '';
  const res = useGet<Page<Vulnerability>>('/vulnerabilities', {
    severity,
    kev: kev ? 'true' : undefined,
    affected: affected ? 'true' : undefined,
    q,
    sort,
    order,
    cursor,
    limit: PAGE_SIZE,
  });
  const { reload } = res;
  // A status change or a re-match changes the affected-device counts.
  useLiveEvents(['resync'], () => {
    if (cursor === '') reload();
  });

  const applySearch = (f: FormData) => update({ q: String(f.get('q') ?? '').trim() || null });

  const onSort = (k: string) => {
    if (k === sort) update({ order: order === 'asc' ? 'desc' : 'asc' });
    else update({ sort: k, order: k === 'cve_id' ? 'asc' : 'desc' });
  };

  const filtered = severity !== '' || kev || affected || q !== '';
  let body;
  if (res.state === 'loading') body = <Loading label="Loading vulnerabilities…" />;
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (res.data.items.length === 0)
    body = (
      <Empty title={filtered ? 'No vulnerabilities match these filters' : 'No vulnerabilities imported yet'}>
        {filtered ? null : (
          <p>
            Import NVD, KEV and EPSS data with <code>iotsec vulns import</code>, or let the worker sync them.
          </p>
        )}
      </Empty>
    );
  else
    body = (
      <PagedTable
        rows={res.data.items}
        columns={columns}
        caption="Vulnerabilities"
        rowKey={(v) => v.cve_id}
        sort={{ key: sort, order, onSort }}
        cursor={cursor}
        nextCursor={res.data.next_cursor}
        onCursor={(c) => update({ cursor: c })}
      />
    );

  return (
    <>
      <PageHeader
        title="Vulnerabilities"
        subtitle="Known CVEs (NVD), known exploited (CISA KEV) and exploit likelihood (EPSS)"
      />
      <FilterForm
        key={q}
        label="Filter vulnerabilities"
        onApply={applySearch}
        applyText="Search"
        onClear={() => setParams(new URLSearchParams())}
      >
        <InputField
          id="vuln-q"
          label="Search"
          name="q"
          type="search"
          maxLength={200}
          placeholder="CVE id or words of the description"
          defaultValue={q}
        />
        <Field id="vuln-severity" label="Severity">
          <select
            id="vuln-severity"
            value={severity}
            onChange={(e) => update({ severity: e.target.value || null })}
          >
            <Options values={VULN_SEVERITIES} any="Any" />
          </select>
        </Field>
        {/* Uncontrolled (keyed by the URL's value): the box flips at once, the URL follows in a transition. */}
        <Check
          key={`kev-${kev}`}
          id="vuln-kev"
          label="Known exploited (KEV) only"
          defaultChecked={kev}
          onChange={(e) => update({ kev: e.target.checked ? 'true' : null })}
        />
        <Check
          key={`affected-${affected}`}
          id="vuln-affected"
          label="Affecting my devices only"
          defaultChecked={affected}
          onChange={(e) => update({ affected: e.target.checked ? 'true' : null })}
        />
      </FilterForm>
      {body}
    </>
  );
}
