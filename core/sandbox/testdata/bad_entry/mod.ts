export const notAPlugin = 1;
