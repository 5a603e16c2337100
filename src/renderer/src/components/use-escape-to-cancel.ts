import { useEffect } from 'react';
import { useInspector } from '../app/context';

/** Esc anywhere in the window cancels the running turn of the selected session. */
export function useEscapeToCancel(): void {
  const inspector = useInspector();
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || event.defaultPrevented) return;
      void inspector.cancelActiveTurn();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
    };
  }, [inspector]);
}
