// The event stream's public API in one import: `import { Emitter, RingBuffer, ... } from '../trace/index.ts'`.
export * from './schema.ts';
export { Emitter, type Listener } from './emitter.ts';
export { validateEvent, checkField, type Validation } from './validate.ts';
export { RingBuffer, type RingOptions } from './ring.ts';
export { BYTES_PER_EVENT } from './layout.ts';
export {
  headerLine,
  eventLine,
  encodeNdjson,
  ChunkedWriter,
  HEADER_KEY,
  type TraceParams,
} from './ndjson.ts';
export { encodeBatch, decodeBatch, createBatcher, BatchError, BINARY_VERSION } from './binary.ts';
export {
  PerfettoConverter,
  toPerfetto,
  perfettoEnvelope,
  pidOf,
  tidOf,
  HYPERVISOR_PID,
  HANDLER_TID,
  SCHEDULER_TID,
  type ChromeEvent,
} from './perfetto.ts';
export {
  TraceReader,
  parseTrace,
  type TraceHeader,
  type TraceError,
  type LineResult,
  type ParseResult,
} from './reader.ts';
export { createTraceSink, traceFormatFor, type TraceSink, type TraceSinkOptions, type TraceFormat } from './sink.ts';
export {
  scanTraceFile,
  decodeTraceFile,
  encodeTraceFile,
  isTraceFile,
  traceFileHeader,
  traceFileRecord,
  TRACE_FILE_EXTENSION,
  TRACE_FILE_VERSION,
  type TraceFileError,
  type TraceFileScan,
} from './file.ts';
export { BatchColumns } from './columns.ts';
export { SummaryBuilder, summarize, formatSummary, type TraceSummary } from './summary.ts';
export { captureEvents, checkRoundTrips, goldenTrace, type GoldenTrace } from './capture.ts';
export { syntheticEvents } from './synthetic.ts';
