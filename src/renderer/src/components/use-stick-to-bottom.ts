import { useEffect, useRef, type RefObject } from 'react';

/** Within this many pixels of the bottom counts as "at the bottom". */
const SLACK_PX = 24;

/**
 * Keeps a scroll container pinned to its bottom while its content grows or the container shrinks
 * (e.g. a banner appears above it), unless the user has scrolled up to read. Returns the
 * container's scroll handler.
 */
export function useStickToBottom(
  scrollRef: RefObject<HTMLElement | null>,
  contentRef: RefObject<HTMLElement | null>,
): () => void {
  const stuck = useRef(true);

  useEffect(() => {
    const scroller = scrollRef.current;
    const content = contentRef.current;
    if (scroller === null || content === null) return undefined;
    const observer = new ResizeObserver(() => {
      if (stuck.current) scroller.scrollTop = scroller.scrollHeight;
    });
    observer.observe(content);
    observer.observe(scroller);
    return () => {
      observer.disconnect();
    };
  }, [scrollRef, contentRef]);

  return () => {
    const scroller = scrollRef.current;
    if (scroller === null) return;
    stuck.current = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < SLACK_PX;
  };
}
