// The shared helpers (tools/dev), under the names the specs import.
export { delay, waitFor } from '../../tools/dev/wait';
