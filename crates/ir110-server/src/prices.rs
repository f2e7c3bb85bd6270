//! The price list quotes are made from, and the tax arithmetic (integer yen).

use serde::{Deserialize, Serialize};

/// A unit or name in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Both {
    /// Japanese.
    pub ja: String,
    /// English.
    pub en: String,
}

/// One item of the price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceItem {
    /// Stable code used by quotes (`forensic-preservation`).
    pub code: String,
    /// Japanese name.
    pub ja: String,
    /// English name.
    pub en: String,
    /// The unit a quantity counts.
    pub unit: Both,
    /// Unit price in yen, tax excluded.
    pub price: i64,
}

/// Who issues the quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// Name and address in Japanese.
    pub ja: String,
    /// Name and address in English.
    pub en: String,
    /// Qualified-invoice registration number (`T` + 13 digits).
    pub registration: String,
}

/// The price list (`data/price-list.toml` form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceList {
    /// Consumption tax rate in percent (10).
    pub tax_rate_percent: i64,
    /// The issuer printed on quotes.
    pub issuer: Option<Issuer>,
    /// Items in display order.
    #[serde(rename = "item")]
    pub items: Vec<PriceItem>,
}

impl PriceList {
    /// Parses and checks a price list: unique codes, no negative price, a rate in 0..=100.
    pub fn parse(text: &str) -> Result<PriceList, String> {
        let list: PriceList = toml::from_str(text).map_err(|e| e.to_string())?;
        if !(0..=100).contains(&list.tax_rate_percent) {
            return Err(format!("tax rate {} %", list.tax_rate_percent));
        }
        let mut codes = std::collections::BTreeSet::new();
        for item in &list.items {
            if !codes.insert(item.code.as_str()) {
                return Err(format!("item code `{}` appears twice", item.code));
            }
            if item.price < 0 {
                return Err(format!("item `{}` has a negative price", item.code));
            }
        }
        Ok(list)
    }

    /// The item with this code.
    pub fn item(&self, code: &str) -> Option<&PriceItem> {
        self.items.iter().find(|i| i.code == code)
    }
}

/// Subtotal, tax and total of a quote, in yen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteTotals {
    /// Sum of the line amounts, tax excluded.
    pub subtotal: i64,
    /// Consumption tax.
    pub tax: i64,
    /// Subtotal plus tax.
    pub total: i64,
}

/// Totals of line amounts at `rate_percent`: the tax is computed once on the subtotal and
/// rounded down to the yen (切り捨て), the rounding a qualified invoice (適格請求書) allows once
/// per rate per document. `None` on overflow.
pub fn quote_totals(amounts: &[i64], rate_percent: i64) -> Option<QuoteTotals> {
    let subtotal = amounts
        .iter()
        .try_fold(0i64, |acc, a| acc.checked_add(*a))?;
    let tax = subtotal.checked_mul(rate_percent)?.div_euclid(100);
    Some(QuoteTotals {
        subtotal,
        tax,
        total: subtotal.checked_add(tax)?,
    })
}

/// Yen with thousands separators: `1,234,567`.
pub(crate) fn yen(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if amount < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_is_ten_percent_rounded_down_once() {
        assert_eq!(
            quote_totals(&[50_000, 300_000], 10),
            Some(QuoteTotals {
                subtotal: 350_000,
                tax: 35_000,
                total: 385_000
            })
        );
        // 1,999 × 10 % = 199.9 → 199.
        assert_eq!(quote_totals(&[1_999], 10).unwrap().tax, 199);
        // Rounded on the subtotal, not per line: 3 × 5 yen → 1 yen tax, not 0.
        assert_eq!(quote_totals(&[5, 5, 5], 10).unwrap().tax, 1);
        assert_eq!(quote_totals(&[i64::MAX, 1], 10), None);
    }

    #[test]
    fn default_price_list_has_the_seed_items() {
        let list = PriceList::parse(crate::DEFAULT_PRICE_LIST).unwrap();
        let names: Vec<&str> = list.items.iter().map(|i| i.ja.as_str()).collect();
        assert_eq!(
            names,
            [
                "状況ヒアリング",
                "緊急対応の手順アドバイス",
                "原因調査",
                "業務復旧支援",
                "データ復旧",
                "改ざん被害調査",
                "Webサイトの脆弱性診断",
                "ログの証拠保全",
                "デジタルフォレンジックによる証拠保全",
                "端末調査",
                "被害告知支援",
                "関係各所への連絡",
                "再発防止策の提言",
                "メールサーバ移行",
                "経過観察"
            ]
        );
        assert_eq!(list.tax_rate_percent, 10);
        assert!(PriceList::parse("tax_rate_percent = 10\nitem = []\nextra = 1").is_err());
        assert_eq!(list.issuer.unwrap().registration.len(), 14);
    }

    #[test]
    fn yen_groups_thousands() {
        assert_eq!(yen(0), "0");
        assert_eq!(yen(385_000), "385,000");
        assert_eq!(yen(1_234_567), "1,234,567");
    }
}
