//! `haven bench names`: fill an empty database with the demo agencies and N person records with Vietnamese
//! names, written through the store's commands (sealed identity, blind keys, audit entry) in batches, and
//! write the searches `bench/names.sh` sends: names as families, communes and foreign lists give them.

use haven_domain::person::{BirthDate, Identity};
use haven_linkage::normalise::fold;
use haven_store::{persons, Actor, Store};

use crate::demo::{Names, Rng};

/// How many records go in one command: a transaction of this size keeps the fill fast without holding the
/// write lock for long.
const BATCH: u64 = 2_000;

/// The share of records (per mille) held by the border guards, whose officer searches: the largest holder.
const SEARCHER_SHARE: u64 = 400;

/// Fill `store` (empty) with `persons` records; return the searches, one per line: what an officer types.
/// About two in five are names the searcher's agency holds, written as lists and families write them (capitals
/// without diacritics, given name first, with the birth year or the date); the rest are names other agencies
/// hold, which the searcher must not find.
pub async fn names(store: &Store, persons: u64) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(
        crate::demo::load_with(store, "bench password 1", 0, 0).await?,
        "the database is not empty: give an empty data folder"
    );
    let agencies = store.agencies().await?;
    let border = agencies.iter().find(|a| a.code == "border").map(|a| a.id.clone()).unwrap_or_default();
    let others: Vec<String> = agencies.iter().filter(|a| a.id != border).map(|a| a.id.clone()).collect();
    anyhow::ensure!(!border.is_empty() && !others.is_empty(), "the demo agencies are missing");
    let officer = store.user_by_name("border.officer").await?.ok_or_else(|| anyhow::anyhow!("no demo officer"))?;
    let names = Names::load();
    let (communes, mountain) = crate::demo::communes(store).await?;
    let mut rng = Rng::new(0x4e41_4d45_5300_0001);
    let mut queries = Vec::new();
    let mut done = 0;
    while done < persons {
        let n = BATCH.min(persons - done);
        let actor = Actor { user_id: officer.id.clone(), agency_id: border.clone(), request_id: "bench".into() };
        let mut cmd = store.command(&actor).await?;
        for i in 0..n {
            let who = crate::demo::person(&mut rng, &names, &communes, &mountain);
            let mine = rng.below(1000) < SEARCHER_SHARE;
            let owner = if mine { &border } else { rng.pick(&others) };
            persons::create(&mut cmd, &store.keys, owner, &who).await?;
            if (done + i) % 997 == 0 {
                queries.push(typed(&who, &mut rng));
            }
        }
        cmd.commit().await?;
        done += n;
    }
    store.db.analyze().await?;
    Ok(queries)
}

/// A name as someone types it: as written, without diacritics in capitals, given name first, with the birth
/// year or the whole date, or nothing.
fn typed(who: &Identity, rng: &mut Rng) -> String {
    let name = match rng.below(4) {
        0 => who.full_name.clone(),
        1 => fold(&who.full_name).to_uppercase(),
        2 => {
            let mut parts: Vec<&str> = who.full_name.split_whitespace().collect();
            parts.rotate_right(1);
            fold(&parts.join(" ")).to_uppercase()
        }
        _ => fold(&who.full_name),
    };
    let birth = match (rng.below(3), who.birth_date) {
        (0, Some(b)) => format!(" {}", b.year()),
        (1, Some(BirthDate::Full(d))) => format!(" {:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year()),
        _ => String::new(),
    };
    format!("{name}{birth}")
}
