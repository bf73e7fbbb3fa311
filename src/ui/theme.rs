//! Colours. `NO_COLOR` turns them all off; emphasis then falls back to bold and reverse video
//! so FAILED still stands out.

use ratatui::style::{Color, Modifier, Style};

use crate::model::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme { color: true }
    }
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (https://no-color.org).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn status(&self, status: &Status) -> Style {
        match status {
            Status::Failed => self.fg(Color::LightRed).add_modifier(Modifier::BOLD),
            Status::InProgress => self.fg(Color::Yellow),
            Status::Succeeded => self.fg(Color::Green),
            Status::Unknown(_) => self.fg(Color::Magenta),
        }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// Secondary text (a group's hint, an empty cell's "-") on a row that may be selected: the
    /// selection's background is the dim colour, so there the text turns light grey, or it
    /// would vanish.
    pub fn secondary(&self, selected: bool) -> Style {
        if selected && self.color {
            Style::new().fg(Color::Gray)
        } else {
            self.dim()
        }
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn warning(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }

    pub fn selected_row(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn active_tab(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    pub fn border(&self) -> Style {
        self.dim()
    }
}
