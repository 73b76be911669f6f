// The timeline reads binary batches through the trace layer's column views (src/trace/columns.ts).
export { BatchColumns } from '../../trace/columns.ts';
