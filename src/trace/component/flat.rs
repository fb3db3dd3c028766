//! A component call's values as the trace and the log hold them: integers,
//! plus the bytes of each string and byte list.
//!
//! A value flattens, in order, to: a number, `bool` or `char` as itself (a
//! float as its bits); a string or `list<u8>` as its length, its bytes
//! kept at that length's position; another list as its length, then each
//! element; a record's or tuple's fields in order; a variant's or
//! `result`'s case index (`ok` 0, `err` 1), then its payload; an enum's
//! index; an `option` as 0, or 1 then its value; flags as one bit set per
//! 64 flags; a resource handle as a number the caller gives it.
//!
//! Given the type, that is a whole encoding: [`unflatten`] reads a value
//! back, checking every length against what is there.

use wasmtime::StoreContextMut;
use wasmtime::component::{ResourceAny, ResourceType, Type, Val};

/// Values flattened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flat {
    /// The integers, in order.
    pub ints: Vec<i64>,
    /// The bytes of each string and byte list, at the position of its
    /// length in `ints`.
    pub bytes: Vec<(u32, Vec<u8>)>,
}

impl Flat {
    /// Pushes a scalar and returns `value` unchanged.
    fn push(&mut self, int: i64, value: &Val) -> Val {
        self.ints.push(int);
        value.clone()
    }

    /// A string's or byte list's length, and its bytes.
    fn bytes_of(&mut self, bytes: &[u8]) {
        self.bytes.push((self.ints.len() as u32, bytes.to_vec()));
        self.ints.push(bytes.len() as i64);
    }

    /// A digest of the bytes (each with its position and length), `None`
    /// when there are none: what a log keeps of a call's arguments' data.
    pub fn inputs(&self) -> Option<[u8; 16]> {
        if self.bytes.is_empty() {
            return None;
        }
        let mut hasher = blake3::Hasher::new();
        for (at, bytes) in &self.bytes {
            hasher.update(&at.to_le_bytes());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        let mut digest = [0; 16];
        digest.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        Some(digest)
    }
}

/// What to do with each resource handle met while flattening: the number
/// to flatten it to and the handle to put in its place.
pub(crate) type OnHandle<'a, T> = dyn FnMut(&mut StoreContextMut<'_, T>, ResourceAny, &Type) -> wasmtime::Result<(u32, ResourceAny)>
    + 'a;

/// Flattens `value`, of type `ty`, into `flat`, and returns it with each
/// resource handle replaced as `on_handle` says. `name` is the call's, for
/// errors.
pub(crate) fn convert<T>(
    store: &mut StoreContextMut<'_, T>,
    name: &str,
    value: &Val,
    ty: &Type,
    flat: &mut Flat,
    on_handle: &mut OnHandle<'_, T>,
) -> wasmtime::Result<Val> {
    let mismatch = || wasmtime::format_err!("`{name}`: a value does not have its type");
    Ok(match (value, ty) {
        (Val::Bool(v), _) => flat.push(i64::from(*v), value),
        (Val::S8(v), _) => flat.push(i64::from(*v), value),
        (Val::U8(v), _) => flat.push(i64::from(*v), value),
        (Val::S16(v), _) => flat.push(i64::from(*v), value),
        (Val::U16(v), _) => flat.push(i64::from(*v), value),
        (Val::S32(v), _) => flat.push(i64::from(*v), value),
        (Val::U32(v), _) => flat.push(i64::from(*v), value),
        (Val::S64(v), _) => flat.push(*v, value),
        (Val::U64(v), _) => flat.push(*v as i64, value),
        (Val::Float32(v), _) => flat.push(i64::from(v.to_bits()), value),
        (Val::Float64(v), _) => flat.push(v.to_bits() as i64, value),
        (Val::Char(v), _) => flat.push(i64::from(u32::from(*v)), value),
        (Val::String(s), _) => {
            flat.bytes_of(s.as_bytes());
            value.clone()
        }
        (Val::List(items), Type::List(list)) => {
            let element = list.ty();
            if matches!(element, Type::U8) {
                let bytes: Vec<u8> = items
                    .iter()
                    .map(|v| match v {
                        Val::U8(b) => Ok(*b),
                        _ => Err(mismatch()),
                    })
                    .collect::<Result<_, _>>()?;
                flat.bytes_of(&bytes);
                value.clone()
            } else {
                flat.ints.push(items.len() as i64);
                let mut converted = Vec::with_capacity(items.len());
                for item in items {
                    converted.push(convert(store, name, item, &element, flat, on_handle)?);
                }
                Val::List(converted)
            }
        }
        (Val::Record(fields), Type::Record(record)) => {
            let mut converted = Vec::with_capacity(fields.len());
            for ((field_name, field), ty) in fields.iter().zip(record.fields()) {
                let field = convert(store, name, field, &ty.ty, flat, on_handle)?;
                converted.push((field_name.clone(), field));
            }
            Val::Record(converted)
        }
        (Val::Tuple(items), Type::Tuple(tuple)) => {
            let mut converted = Vec::with_capacity(items.len());
            for (item, ty) in items.iter().zip(tuple.types()) {
                converted.push(convert(store, name, item, &ty, flat, on_handle)?);
            }
            Val::Tuple(converted)
        }
        (Val::Variant(case_name, payload), Type::Variant(variant)) => {
            let (index, case) = variant
                .cases()
                .enumerate()
                .find(|(_, c)| c.name == case_name)
                .ok_or_else(mismatch)?;
            flat.ints.push(index as i64);
            let payload = match (payload, case.ty) {
                (Some(payload), Some(ty)) => Some(Box::new(convert(
                    store, name, payload, &ty, flat, on_handle,
                )?)),
                (None, None) => None,
                _ => return Err(mismatch()),
            };
            Val::Variant(case_name.clone(), payload)
        }
        (Val::Enum(case), Type::Enum(cases)) => {
            let index = cases.names().position(|n| n == case).ok_or_else(mismatch)?;
            flat.push(index as i64, value)
        }
        (Val::Option(inner), Type::Option(option)) => match inner {
            None => flat.push(0, value),
            Some(inner) => {
                flat.ints.push(1);
                let inner = convert(store, name, inner, &option.ty(), flat, on_handle)?;
                Val::Option(Some(Box::new(inner)))
            }
        },
        (Val::Result(result), Type::Result(types)) => {
            let (index, payload, ty) = match result {
                Ok(payload) => (0, payload, types.ok()),
                Err(payload) => (1, payload, types.err()),
            };
            flat.ints.push(index);
            let payload = match (payload, ty) {
                (Some(payload), Some(ty)) => Some(Box::new(convert(
                    store, name, payload, &ty, flat, on_handle,
                )?)),
                (None, None) => None,
                _ => return Err(mismatch()),
            };
            Val::Result(if index == 0 {
                Ok(payload)
            } else {
                Err(payload)
            })
        }
        (Val::Flags(set), Type::Flags(flags)) => {
            let names: Vec<&str> = flags.names().collect();
            let mut words = vec![0i64; names.len().div_ceil(64).max(1)];
            for flag in set {
                let bit = names.iter().position(|n| n == flag).ok_or_else(mismatch)?;
                words[bit / 64] |= 1 << (bit % 64);
            }
            flat.ints.extend(words);
            value.clone()
        }
        (Val::Resource(handle), Type::Own(_) | Type::Borrow(_)) => {
            let (number, replaced) = on_handle(store, *handle, ty)?;
            flat.ints.push(i64::from(number));
            Val::Resource(replaced)
        }
        _ => wasmtime::bail!("`{name}`: a value of type {ty:?} is not traced"),
    })
}

/// Reads flattened values back.
pub(crate) struct Cursor<'a> {
    ints: &'a [i64],
    bytes: &'a [(u32, std::sync::Arc<[u8]>)],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the first of `ints`, with `bytes` at their positions.
    pub fn new(ints: &'a [i64], bytes: &'a [(u32, std::sync::Arc<[u8]>)]) -> Self {
        Cursor { ints, bytes, at: 0 }
    }

    /// Whether every integer was read.
    pub fn done(&self) -> bool {
        self.at == self.ints.len()
    }

    fn int(&mut self) -> Result<i64, String> {
        let int = *self
            .ints
            .get(self.at)
            .ok_or("fewer values than the result type has")?;
        self.at += 1;
        Ok(int)
    }

    fn within<N: TryFrom<i64>>(&mut self, what: &str) -> Result<N, String> {
        let int = self.int()?;
        N::try_from(int).map_err(|_| format!("{int} is not a {what}"))
    }

    /// A string's or byte list's bytes, at the current position.
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let at = self.at as u32;
        let len = self.int()?;
        let bytes = self
            .bytes
            .iter()
            .find(|(offset, _)| *offset == at)
            .map(|(_, b)| &b[..])
            .ok_or("a string or byte list without its bytes")?;
        if bytes.len() as i64 != len {
            return Err(format!("a length of {len} with {} bytes", bytes.len()));
        }
        Ok(bytes)
    }

    /// An index below `count`.
    fn index(&mut self, count: usize) -> Result<usize, String> {
        let index = self.int()?;
        usize::try_from(index)
            .ok()
            .filter(|&i| i < count)
            .ok_or_else(|| format!("case {index} of {count}"))
    }
}

/// What makes a result's resource handle from its number and type.
pub(crate) type MakeHandle<'a, T> = dyn FnMut(&mut StoreContextMut<'_, T>, u32, &ResourceType) -> wasmtime::Result<ResourceAny>
    + 'a;

/// Reads one value of type `ty` from `cursor`; each resource handle is
/// made by `make_handle` from its number and type.
///
/// # Errors
///
/// Where the integers do not encode a value of `ty` (a log that is not
/// this call's), as a message; an error `make_handle` returns.
pub(crate) fn unflatten<T>(
    store: &mut StoreContextMut<'_, T>,
    ty: &Type,
    cursor: &mut Cursor<'_>,
    make_handle: &mut MakeHandle<'_, T>,
) -> wasmtime::Result<Result<Val, String>> {
    // The errors of the encoding, apart from the caller's.
    macro_rules! read {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(message) => return Ok(Err(message)),
            }
        };
    }
    macro_rules! inner {
        ($ty:expr) => {
            match unflatten(store, $ty, cursor, make_handle)? {
                Ok(v) => v,
                Err(message) => return Ok(Err(message)),
            }
        };
    }
    Ok(Ok(match ty {
        Type::Bool => Val::Bool(read!(cursor.index(2)) == 1),
        Type::S8 => Val::S8(read!(cursor.within("s8"))),
        Type::U8 => Val::U8(read!(cursor.within("u8"))),
        Type::S16 => Val::S16(read!(cursor.within("s16"))),
        Type::U16 => Val::U16(read!(cursor.within("u16"))),
        Type::S32 => Val::S32(read!(cursor.within("s32"))),
        Type::U32 => Val::U32(read!(cursor.within("u32"))),
        Type::S64 => Val::S64(read!(cursor.int())),
        Type::U64 => Val::U64(read!(cursor.int()) as u64),
        Type::Float32 => Val::Float32(f32::from_bits(read!(cursor.within("f32")))),
        Type::Float64 => Val::Float64(f64::from_bits(read!(cursor.int()) as u64)),
        Type::Char => {
            let code: u32 = read!(cursor.within("char"));
            Val::Char(read!(
                char::from_u32(code).ok_or(format!("{code} is not a char"))
            ))
        }
        Type::String => {
            let bytes = read!(cursor.bytes());
            let text = read!(
                std::str::from_utf8(bytes).map_err(|_| "a string that is not UTF-8".to_string())
            );
            Val::String(text.to_string())
        }
        Type::List(list) => {
            let element = list.ty();
            if matches!(element, Type::U8) {
                Val::List(read!(cursor.bytes()).iter().map(|&b| Val::U8(b)).collect())
            } else {
                let len: usize = read!(cursor.within("length"));
                // Every element takes at least one integer, or the type has
                // none to read: either way no more than are left.
                if len > cursor.ints.len() - cursor.at {
                    return Ok(Err(format!("a list of {len} with fewer values left")));
                }
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(inner!(&element));
                }
                Val::List(items)
            }
        }
        Type::Record(record) => {
            let mut fields = Vec::new();
            for field in record.fields() {
                fields.push((field.name.to_string(), inner!(&field.ty)));
            }
            Val::Record(fields)
        }
        Type::Tuple(tuple) => {
            let mut items = Vec::new();
            for ty in tuple.types() {
                items.push(inner!(&ty));
            }
            Val::Tuple(items)
        }
        Type::Variant(variant) => {
            let index = read!(cursor.index(variant.cases().len()));
            let case = variant
                .cases()
                .nth(index)
                .expect("an index below the count");
            let payload = match &case.ty {
                Some(ty) => Some(Box::new(inner!(ty))),
                None => None,
            };
            Val::Variant(case.name.to_string(), payload)
        }
        Type::Enum(cases) => {
            let index = read!(cursor.index(cases.names().len()));
            Val::Enum(
                cases
                    .names()
                    .nth(index)
                    .expect("an index below the count")
                    .to_string(),
            )
        }
        Type::Option(option) => match read!(cursor.index(2)) {
            0 => Val::Option(None),
            _ => Val::Option(Some(Box::new(inner!(&option.ty())))),
        },
        Type::Result(result) => {
            let ok = read!(cursor.index(2)) == 0;
            let ty = if ok { result.ok() } else { result.err() };
            let payload = match ty {
                Some(ty) => Some(Box::new(inner!(&ty))),
                None => None,
            };
            Val::Result(if ok { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(flags) => {
            let names: Vec<&str> = flags.names().collect();
            let mut set = Vec::new();
            let mut words = Vec::new();
            for _ in 0..names.len().div_ceil(64).max(1) {
                words.push(read!(cursor.int()));
            }
            for (bit, name) in names.iter().enumerate() {
                if words[bit / 64] & (1 << (bit % 64)) != 0 {
                    set.push(name.to_string());
                }
            }
            Val::Flags(set)
        }
        Type::Own(resource) => {
            let number: u32 = read!(cursor.within("handle"));
            Val::Resource(make_handle(store, number, resource)?)
        }
        other => return Ok(Err(format!("a result of type {other:?}"))),
    }))
}
