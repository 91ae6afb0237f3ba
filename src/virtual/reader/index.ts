/**
 * The virtual CCID reader (see reader.ts for the model and its options).
 * This index is the folder's public face: the names other modules import.
 */
export { createVirtualReader, VirtualReader, VIRTUAL_READER_ENDPOINTS } from './reader.js';
export type { VirtualReaderOptions, VirtualReaderStats, SecureRequest, SecureOutcome } from './reader.js';
