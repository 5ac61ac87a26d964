// The "select" kernels module: column-wise selection (median, trimmed mean, mean around the
// median; src/kernels/column-select.ts).
export { selectColumns, networkColumns } from '../select';
