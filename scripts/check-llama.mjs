// setup.sh: the prebuilt llama.cpp binding must load on this machine (CPU build; never a source build).
// A file, not `node -e`: node-llama-cpp tests its binary in a child that inherits this process's flags.
import { getLlama } from 'node-llama-cpp';

const llama = await getLlama({ build: 'never', gpu: false, skipDownload: true, progressLogs: false });
await llama.dispose();
