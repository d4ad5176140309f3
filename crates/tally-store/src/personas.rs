//! Personas: system-prompt presets to start a chat with.

use rusqlite::{ErrorCode, params};

use crate::model::{EpochMillis, Persona};
use crate::{Result, Store, StoreError};

impl Store {
    /// Every persona, by name.
    pub fn personas(&self) -> Result<Vec<Persona>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, prompt FROM personas ORDER BY name COLLATE NOCASE")?;
        let rows = stmt.query_map([], |r| {
            Ok(Persona {
                id: r.get(0)?,
                name: r.get(1)?,
                prompt: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Adds a persona (`id` `None`) or changes one. Names are unique, whatever their case.
    pub fn save_persona(
        &self,
        id: Option<i64>,
        name: &str,
        prompt: &str,
        now: EpochMillis,
    ) -> Result<i64> {
        // The id written, `None` when there was no persona `id` to change.
        let written: rusqlite::Result<Option<i64>> = match id {
            None => self
                .conn
                .execute(
                    "INSERT INTO personas (name, prompt, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?3)",
                    params![name, prompt, now],
                )
                .map(|_| Some(self.conn.last_insert_rowid())),
            Some(id) => self
                .conn
                .execute(
                    "UPDATE personas SET name = ?2, prompt = ?3, updated_at = ?4 WHERE id = ?1",
                    params![id, name, prompt, now],
                )
                .map(|changed| (changed > 0).then_some(id)),
        };
        match written {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err(StoreError::NoPersona(id.unwrap_or_default())),
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                Err(StoreError::DuplicateName(name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub fn delete_persona(&self, id: i64) -> Result<()> {
        if self
            .conn
            .execute("DELETE FROM personas WHERE id = ?1", [id])?
            == 0
        {
            return Err(StoreError::NoPersona(id));
        }
        Ok(())
    }
}
