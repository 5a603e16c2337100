import type { ChatMessage } from './backend';

/**
 * The chat format of Parley's own GGUF models (the embedded NPC model and the generated test
 * models). One format, used three ways: the training corpus is written with `formatChat`, the
 * llama.cpp worker prompts with `formatChatPrompt`, and the GGUF carries `CHAT_TEMPLATE` (the same
 * format as a Jinja template) so other llama.cpp tools can chat with the file too.
 *
 *   <|system|>\n{system}<|end|>\n<|user|>\n{user}<|end|>\n<|assistant|>\n{reply}<|end|>
 *
 * The four markers are control tokens of the vocabulary; `<|end|>` is the end-of-generation token.
 */
export const CHAT_TOKENS = {
  system: '<|system|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
  end: '<|end|>',
} as const;

export const CONTROL_TOKENS: readonly string[] = Object.values(CHAT_TOKENS);

/** A piece of a prompt: control markers are tokenized as control tokens, everything else as text. */
export interface PromptPiece {
  readonly text: string;
  readonly control: boolean;
}

/**
 * The prompt for a reply as pieces: a worker tokenizes markers as control tokens and message text as
 * plain text, so a player who types `<|end|>` cannot end the system prompt.
 */
export function chatPromptPieces(messages: readonly ChatMessage[]): PromptPiece[] {
  const pieces: PromptPiece[] = [];
  const control = (text: string): void => {
    pieces.push({ text, control: true });
  };
  const text = (t: string): void => {
    pieces.push({ text: t, control: false });
  };
  for (const m of messages) {
    control(CHAT_TOKENS[m.role]);
    text(`\n${m.content}`);
    control(CHAT_TOKENS.end);
    text('\n');
  }
  control(CHAT_TOKENS.assistant);
  text('\n');
  return pieces;
}

/** The prompt for a reply: every message, then the assistant marker the model continues from. */
export function formatChatPrompt(messages: readonly ChatMessage[]): string {
  return chatPromptPieces(messages)
    .map((p) => p.text)
    .join('');
}

/** A whole training example: the prompt, the reply, and the end token the model must learn to emit. */
export function formatChat(messages: readonly ChatMessage[], reply: string): string {
  return `${formatChatPrompt(messages)}${reply}${CHAT_TOKENS.end}`;
}

/** `formatChatPrompt` as a Jinja chat template (`tokenizer.chat_template`). */
export const CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";
