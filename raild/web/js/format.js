// Number and time formatting for the small screen. Positions are µm at the API.

export function mm(um) {
  return Number.isFinite(um) ? (um / 1000).toFixed(3) : "—";
}

export function um(value) {
  if (!Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** A length with the unit that reads best: "850 µm", "12.40 mm". */
export function length(valueUm) {
  if (!Number.isFinite(valueUm)) return "—";
  const a = Math.abs(valueUm);
  if (a >= 1000) return `${(valueUm / 1000).toFixed(2)} mm`;
  return `${Number(valueUm.toFixed(a < 10 ? 2 : 1))} µm`;
}

/** "45 s", "3 min 05 s", "1 h 02 min". */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

export function stepLabel(stepUm) {
  return stepUm >= 1000 ? `${stepUm / 1000} mm` : `${stepUm} µm`;
}
