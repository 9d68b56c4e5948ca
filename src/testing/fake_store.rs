//! [`FakeStore`]: token parameters in memory ([`TokenRead`], [`TokenWrite`],
//! [`TokenList`]). Test-only.

use super::journal::{Call, Journal};
use crate::ports::{
    StoredTokens, TokenList, TokenListError, TokenLoadError, TokenRead, TokenSaveError, TokenWrite,
};
use crate::token::StoredToken;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};

/// Token parameters by name.
#[derive(Default)]
pub struct FakeStore {
    /// The journal the calls go to.
    pub journal: Journal,
    tokens: RefCell<BTreeMap<String, Result<StoredToken, String>>>,
    save_failures: RefCell<VecDeque<TokenSaveError>>,
    /// Every `load` fails with this.
    pub fail_loads: RefCell<Option<TokenLoadError>>,
    /// `load_prefix` fails with this.
    pub fail_list: RefCell<Option<TokenListError>>,
    /// `load` and `load_prefix` never answer (a stalled connection).
    pub stall_loads: Cell<bool>,
    /// `save` never answers.
    pub stall_saves: Cell<bool>,
}

impl FakeStore {
    /// No parameters, writing to `journal`.
    pub fn new(journal: &Journal) -> Self {
        Self {
            journal: journal.clone(),
            ..Self::default()
        }
    }

    /// Stores `token` at `parameter`.
    pub fn put(&self, parameter: &str, token: StoredToken) {
        self.tokens
            .borrow_mut()
            .insert(parameter.to_owned(), Ok(token));
    }

    /// Stores an unreadable value at `parameter` (`why` is the parse error).
    pub fn put_malformed(&self, parameter: &str, why: &str) {
        self.tokens
            .borrow_mut()
            .insert(parameter.to_owned(), Err(why.to_owned()));
    }

    /// The next saves fail with these, in turn.
    pub fn fail_next_saves(&self, failures: impl IntoIterator<Item = TokenSaveError>) {
        self.save_failures.borrow_mut().extend(failures);
    }

    /// The readable token at `parameter`.
    pub fn get(&self, parameter: &str) -> Option<StoredToken> {
        self.tokens.borrow().get(parameter)?.as_ref().ok().cloned()
    }

    /// How many parameters hold a value.
    pub fn len(&self) -> usize {
        self.tokens.borrow().len()
    }

    /// `true` when no parameter holds a value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TokenRead for FakeStore {
    async fn load(&self, parameter: &str) -> Result<Option<StoredToken>, TokenLoadError> {
        self.journal.push(Call::TokenLoaded(parameter.to_owned()));
        if self.stall_loads.get() {
            std::future::pending::<()>().await;
        }
        if let Some(e) = self.fail_loads.borrow().clone() {
            return Err(e);
        }
        match self.tokens.borrow().get(parameter) {
            None => Ok(None),
            Some(Ok(t)) => Ok(Some(t.clone())),
            Some(Err(why)) => Err(TokenLoadError::Malformed(why.clone())),
        }
    }
}

impl TokenWrite for FakeStore {
    async fn save(&self, parameter: &str, token: &StoredToken) -> Result<(), TokenSaveError> {
        self.journal.push(Call::TokenSaved(parameter.to_owned()));
        if self.stall_saves.get() {
            std::future::pending::<()>().await;
        }
        if let Some(e) = self.save_failures.borrow_mut().pop_front() {
            return Err(e);
        }
        self.put(parameter, token.clone());
        Ok(())
    }
}

impl TokenList for FakeStore {
    async fn load_prefix(&self, prefix: &str) -> Result<StoredTokens, TokenListError> {
        self.journal.push(Call::TokensListed(prefix.to_owned()));
        if self.stall_loads.get() {
            std::future::pending::<()>().await;
        }
        if let Some(e) = self.fail_list.borrow().clone() {
            return Err(e);
        }
        Ok(self
            .tokens
            .borrow()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone().map_err(TokenLoadError::Malformed)))
            .collect())
    }
}
