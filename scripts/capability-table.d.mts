/** The README's adapter feature table, generated from each adapter's capabilities. */
export function capabilityTable(): string;
