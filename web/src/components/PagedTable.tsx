import { DataTable, type DataTableProps } from './DataTable';
import { Pager } from './Page';

/** A table of one page of a cursor-paged list (caption for screen readers only), with its pager. */
export function PagedTable<T>({
  cursor,
  nextCursor,
  onCursor,
  ...table
}: Omit<DataTableProps<T>, 'hideCaption'> & {
  /** The cursor of the page shown ('' for the first). */
  cursor: string;
  nextCursor: string | null;
  /** Go to the page at this cursor (null: the first page). */
  onCursor(cursor: string | null): void;
}) {
  return (
    <>
      <DataTable {...table} hideCaption />
      <Pager
        hasCursor={cursor !== ''}
        nextCursor={nextCursor}
        onFirst={() => onCursor(null)}
        onNext={(c) => onCursor(c)}
      />
    </>
  );
}
