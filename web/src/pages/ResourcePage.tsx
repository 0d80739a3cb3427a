import { useCallback } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Page } from '../api/client';
import { useApi } from '../auth';
import { DataTable, inferColumns } from '../components/DataTable';
import { Pager, PageHeader } from '../components/Page';
import { Empty, ErrorState, Loading } from '../components/States';
import { useResource } from '../hooks/useResource';

type Row = Record<string, unknown>;

/**
 * A list page for an API that may not exist yet: it calls GET /api/v1<endpoint>?limit=&cursor= (the list
 * contract `{items,next_cursor}`) and shows whatever fields come back as text. A 404 from the server means
 * the endpoint has not landed on this server: that is an empty state, not an error.
 */
export default function ResourcePage({
  title,
  endpoint,
  what,
}: {
  title: string;
  endpoint: string;
  what: string;
}) {
  const client = useApi();
  const [params, setParams] = useSearchParams();
  const cursor = params.get('cursor') ?? '';
  const load = useCallback(
    (signal: AbortSignal) => client.get<Page<Row>>(endpoint, { limit: 50, cursor }, signal),
    [client, endpoint, cursor],
  );
  const res = useResource(load);

  let body;
  if (res.state === 'loading') body = <Loading label={`Loading ${what}…`} />;
  else if (res.state === 'error' && res.error.status === 404 && res.error.code === 'NOT_FOUND')
    body = (
      <Empty title="Not available yet">
        <p>
          This server does not provide <code>/api/v1{endpoint}</code> yet. The page fills in by itself once it
          does.
        </p>
      </Empty>
    );
  else if (res.state === 'error') body = <ErrorState error={res.error} onRetry={res.reload} />;
  else if (!Array.isArray(res.data.items) || res.data.items.length === 0)
    body = <Empty title={`No ${what} yet`} />;
  else {
    const rows = res.data.items;
    body = (
      <>
        <DataTable
          rows={rows}
          columns={inferColumns(rows)}
          caption={title}
          hideCaption
          rowKey={(r, i) => String(r.id ?? r.cve_id ?? i)}
        />
        <Pager
          hasCursor={cursor !== ''}
          nextCursor={res.data.next_cursor}
          onFirst={() => setParams({})}
          onNext={(c) => setParams({ cursor: c })}
        />
      </>
    );
  }
  return (
    <>
      <PageHeader title={title} />
      {body}
    </>
  );
}
