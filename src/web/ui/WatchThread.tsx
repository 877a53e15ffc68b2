// Watch or leave a thread: replies in a watched thread notify you. You watch the threads you
// opened until you leave them.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { queryKeys } from '../api/keys';
import { setWatch, useWatch } from '../api/notifications';
import { Button } from './controls';

export function WatchThread({ messageId }: { messageId: string }) {
  const queryClient = useQueryClient();
  const watch = useWatch(messageId);
  const change = useMutation({
    mutationFn: (watching: boolean) => setWatch(messageId, watching),
    onSuccess: (answer) => queryClient.setQueryData(queryKeys.watch(messageId), answer),
  });
  if (watch.data === undefined) return null;
  const watching = watch.data.watching;
  return (
    <Button
      variant="plain"
      className="text-xs"
      aria-label="Watch this thread"
      aria-pressed={watching}
      disabled={change.isPending}
      title={
        watching ? 'Replies in this thread notify you' : 'Replies in this thread do not notify you'
      }
      onClick={() => change.mutate(!watching)}
    >
      {watching ? '✓ Watching' : 'Watch'}
    </Button>
  );
}
