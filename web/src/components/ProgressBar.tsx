import styles from './ProgressBar.module.css';

/** A labelled progress bar (role progressbar): the value is also written out, never only drawn. */
export function ProgressBar({
  value,
  label,
  state = 'active',
  text,
}: {
  /** Percent, 0..100. */
  value: number;
  /** Accessible name, e.g. "Uploading capture.pcap". */
  label: string;
  state?: 'active' | 'done' | 'failed';
  /** Visible text beside the bar; default "NN%". */
  text?: string;
}) {
  const pct = Math.max(0, Math.min(100, Math.round(value)));
  const fill = `${styles.progressFill} ${state === 'done' ? styles.done : state === 'failed' ? styles.failed : ''}`;
  return (
    <div className={styles.row}>
      <div
        className={styles.progress}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={text ?? `${pct}%`}
        style={{ flex: '1 1 12rem' }}
      >
        <div className={fill} style={{ width: `${pct}%` }} />
      </div>
      <span className={styles.text}>{text ?? `${pct}%`}</span>
    </div>
  );
}
