// The context menu: one at a time, opened at the pointer (or at a row for the keyboard).

export interface MenuItem {
  label: string;
  action?: () => void;
  items?: MenuItem[];
  disabled?: boolean;
  separator?: boolean;
}

class MenuStore {
  items = $state<MenuItem[]>([]);
  x = $state(0);
  y = $state(0);
  open = $state(false);

  show(x: number, y: number, items: MenuItem[]): void {
    this.items = items;
    this.x = x;
    this.y = y;
    this.open = true;
  }

  close(): void {
    this.open = false;
  }
}

export const menu = new MenuStore();
