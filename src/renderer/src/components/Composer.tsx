import { useState, type KeyboardEvent } from 'react';
import { MAX_TURN_TEXT } from '../../../shared/commands';
import { useAppState, useInspector } from '../app/context';
import { selectActiveTurnId, selectSelectedSessionId } from '../store/selectors';
import { useEscapeToCancel } from './use-escape-to-cancel';

/** The player's input. Enter sends, Shift+Enter breaks the line, Esc cancels the running turn. */
export function Composer() {
  const inspector = useInspector();
  const sessionId = useAppState(selectSelectedSessionId);
  const activeTurnId = useAppState(selectActiveTurnId);
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  useEscapeToCancel();

  const canSend = sessionId !== null && text !== '' && !sending;

  const send = async () => {
    if (!canSend) return;
    const sent = text;
    setSending(true);
    const accepted = await inspector.sendTurn(sent);
    setSending(false);
    // A refused line stays in the box so it can be fixed; an accepted one clears unless edited meanwhile.
    if (accepted) setText((current) => (current === sent ? '' : current));
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  const tooLong = text.length > MAX_TURN_TEXT;
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void send();
      }}
    >
      <textarea
        className="composer__input"
        data-testid="player-input"
        aria-label="Player line"
        placeholder={sessionId === null ? 'Select or create a session first' : 'Say something to the NPC…'}
        disabled={sessionId === null}
        rows={2}
        value={text}
        onChange={(event) => {
          // The player starts a line: the NPC's model may prewarm while they type (once per line).
          if (text === '' && event.target.value !== '') void inspector.hint('typing');
          setText(event.target.value);
        }}
        onKeyDown={onKeyDown}
      />
      <div className="composer__actions">
        <span className={`composer__count${tooLong ? ' composer__count--over' : ''}`}>
          {text.length} / {MAX_TURN_TEXT}
        </span>
        <button
          type="button"
          className="button button--danger"
          data-testid="cancel"
          disabled={activeTurnId === null}
          title="Cancel the running turn (Esc)"
          onClick={() => void inspector.cancelActiveTurn()}
        >
          Cancel
        </button>
        <button type="submit" className="button button--primary" data-testid="send" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
