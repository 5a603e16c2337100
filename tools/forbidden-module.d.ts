// src/shared and src/main/runtime must not import `electron` (see ARCHITECTURE.md).
// tsconfig.shared.json and tsconfig.runtime.json map `electron` here; importing anything from it
// is a type error.
export {};
