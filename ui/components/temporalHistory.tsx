// The "Temporal" fact of a detail page: where to read the execution's full history.
export function TemporalHistoryFact({ url }: { url: string }) {
  return (
    <>
      <dt>Temporal</dt>
      <dd>
        <a href={url} target="_blank" rel="noopener">
          history in the Temporal Web UI ↗
        </a>
      </dd>
    </>
  );
}
