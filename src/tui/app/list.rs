//! A list's cursor and scroll offset, and what the movement keys do to them (every list component uses it).

use crate::tui::action::Action;

/// A list position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListPos {
    /// Selected index.
    pub selected: usize,
    /// First visible index.
    pub offset: usize,
}

impl ListPos {
    /// Keeps the selection inside a list of `len`.
    pub(super) fn clamp(&mut self, len: usize) {
        if len == 0 {
            self.selected = 0;
        } else if self.selected >= len {
            self.selected = len - 1;
        }
    }

    /// Moves the selection for a movement action in a list of `len` with pages of `page`; false for any other
    /// action.
    pub(super) fn apply(&mut self, action: Action, len: usize, page: usize) -> bool {
        match action {
            Action::Down => self.selected = (self.selected + 1).min(len.saturating_sub(1)),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => {
                self.selected = (self.selected + page.max(1)).min(len.saturating_sub(1))
            }
            Action::PageUp => self.selected = self.selected.saturating_sub(page.max(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = len.saturating_sub(1),
            _ => return false,
        }
        true
    }

    /// Keeps the selection within `height` visible rows of a list of `len`, and shows as many rows as fit (after
    /// a resize or rows removed there are no blank rows below the last one while rows above are hidden).
    pub fn scroll_into_view(&mut self, height: usize, len: usize) {
        if height == 0 {
            return;
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }
}

/// Whether `action` only moves a cursor.
pub(super) fn is_movement(action: Action) -> bool {
    matches!(
        action,
        Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
    )
}

#[cfg(test)]
mod tests {
    use super::ListPos;

    #[test]
    fn a_list_shows_as_many_rows_as_fit_after_growing() {
        let mut pos = ListPos {
            selected: 2,
            offset: 0,
        };
        // A tiny window shows only the selected (last) row...
        pos.scroll_into_view(1, 3);
        assert_eq!(pos.offset, 2);
        // ...and a big one again shows all three, not the last one above blank rows.
        pos.scroll_into_view(20, 3);
        assert_eq!(pos.offset, 0);
        // Scrolled down in a long list, the selection stays visible.
        let mut long = ListPos {
            selected: 50,
            offset: 0,
        };
        long.scroll_into_view(10, 100);
        assert_eq!(long.offset, 41);
    }
}
