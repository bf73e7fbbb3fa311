//! The table's optional columns, and which of them the operator shows (`c`, remembered in the
//! config as `columns`). The request id, status and time are always shown, and so is the
//! column the table is sorted by.

/// A column the operator may hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionalColumn {
    Account,
    PermissionSet,
    Principal,
    Reason,
}

impl OptionalColumn {
    pub const ALL: [OptionalColumn; 4] = [
        OptionalColumn::Account,
        OptionalColumn::PermissionSet,
        OptionalColumn::Principal,
        OptionalColumn::Reason,
    ];

    /// The name the config file uses.
    pub fn name(self) -> &'static str {
        match self {
            OptionalColumn::Account => "account",
            OptionalColumn::PermissionSet => "permission_set",
            OptionalColumn::Principal => "principal",
            OptionalColumn::Reason => "reason",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OptionalColumn::Account => "account",
            OptionalColumn::PermissionSet => "permission set",
            OptionalColumn::Principal => "principal",
            OptionalColumn::Reason => "reason",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which optional columns are shown (where the width allows). Default: all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnChoice {
    shown: [bool; 4],
}

impl Default for ColumnChoice {
    fn default() -> Self {
        ColumnChoice { shown: [true; 4] }
    }
}

impl ColumnChoice {
    pub fn shows(self, column: OptionalColumn) -> bool {
        self.shown[column.index()]
    }

    pub fn toggle(&mut self, column: OptionalColumn) {
        self.shown[column.index()] = !self.shown[column.index()];
    }

    /// The shown columns' config names, in table order.
    pub fn names(self) -> Vec<&'static str> {
        OptionalColumn::ALL
            .into_iter()
            .filter(|&c| self.shows(c))
            .map(OptionalColumn::name)
            .collect()
    }

    /// From the config's list of shown columns; an unknown name is an error naming the known.
    pub fn from_names(names: &[String]) -> Result<ColumnChoice, String> {
        let mut choice = ColumnChoice { shown: [false; 4] };
        for name in names {
            let column = OptionalColumn::ALL
                .into_iter()
                .find(|c| c.name() == name.as_str())
                .ok_or_else(|| {
                    format!(
                        "unknown column {:?}: use account, permission_set, principal or reason",
                        crate::sanitize::clean_text(name)
                    )
                })?;
            choice.shown[column.index()] = true;
        }
        Ok(choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        let mut choice = ColumnChoice::default();
        choice.toggle(OptionalColumn::Principal);
        let names: Vec<String> = choice.names().into_iter().map(String::from).collect();
        assert_eq!(names, ["account", "permission_set", "reason"]);
        assert_eq!(ColumnChoice::from_names(&names), Ok(choice));
        assert!(ColumnChoice::from_names(&["colour".into()]).is_err());
    }
}
