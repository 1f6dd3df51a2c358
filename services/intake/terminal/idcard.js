// 居民身份证号码校验 (GB 11643-1999): 17 digits, then a check character from the weighted sum mod 11.
// The one implementation in the browser; the server checks the pattern (schemas.PersonIn.id_number).
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

/** The check character the first 17 digits call for. */
export function checkCharacter(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

/** null when the number is valid (or empty: it is optional), else the reason in Chinese. */
export function idNumberProblem(text) {
  const value = (text || "").trim().toUpperCase();
  if (!value) return null;
  if (!/^[0-9]{17}[0-9X]$/.test(value)) {
    return value.length < 18 ? `还差 ${18 - value.length} 位（共18位）` : "应为18位：17位数字加1位数字或X";
  }
  const y = Number(value.slice(6, 10)), m = Number(value.slice(10, 12)), d = Number(value.slice(12, 14));
  const born = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d || born > new Date()) {
    return `出生日期 ${value.slice(6, 14)} 无效`;
  }
  const expected = checkCharacter(value);
  return value[17] === expected ? null : `校验码不符：末位应为 ${expected}，请核对号码`;
}
