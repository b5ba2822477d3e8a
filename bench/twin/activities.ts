/** The twins' steps: they run for real through the worker and return at once. */
export function createTwinActivities() {
  return {
    async noop(step: string): Promise<string> {
      return step;
    },
  };
}

export type TwinActivities = ReturnType<typeof createTwinActivities>;
