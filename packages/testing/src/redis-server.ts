// Owned by one helper; placeholder until it lands.
export {};
