// Small DOM helpers for the playground (plain DOM, no framework).

export function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`playground: no element #${id}`);
  return e as T;
}

/** The integer in input #id, checked against [min, max]; throws naming the field. */
export function intField(id: string, min: number, max: number): number {
  const input = byId<HTMLInputElement>(id);
  const v = Number(input.value);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${input.name || id} must be an integer in [${min}, ${max}], got "${input.value}"`);
  return v;
}

export function numberField(id: string, min: number, max: number): number {
  const input = byId<HTMLInputElement>(id);
  const v = Number(input.value);
  if (input.value.trim() === '' || !(v >= min && v <= max)) throw new Error(`${input.name || id} must be a number in [${min}, ${max}], got "${input.value}"`);
  return v;
}

export function selectField<T extends string>(id: string): T {
  return byId<HTMLSelectElement>(id).value as T;
}

/** Lets the browser paint before the next piece of synchronous work. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function setText(id: string, text: string): void {
  byId(id).textContent = text;
}

/** Runs a panel action: disables its button meanwhile and shows any error in the panel. */
export async function action(button: HTMLButtonElement, status: HTMLElement, work: () => Promise<void>): Promise<void> {
  button.disabled = true;
  status.classList.remove('error');
  try {
    await work();
  } catch (e) {
    status.textContent = e instanceof Error ? e.message : String(e);
    status.classList.add('error');
  } finally {
    button.disabled = false;
  }
}
